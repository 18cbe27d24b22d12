package dev.sesame.users;

import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.jdbi.v3.core.Jdbi;

/** The users feature's service for operators: listing and finding people, and their roles. */
public final class UserDirectory {
  private final Jdbi jdbi;

  public UserDirectory(Jdbi jdbi) {
    this.jdbi = jdbi;
  }

  public List<Users.Listed> page(Users.Filter filter, Users.Cursor after, int limit) {
    return jdbi.withHandle(h -> Users.page(h, filter, after, limit));
  }

  public Optional<Users.Listed> find(UUID id) {
    List<Users.Listed> one = page(new Users.Filter(null, id, null, null, null, null, null, null), null, 1);
    return one.stream().findFirst();
  }

  /** The person's public metadata (an empty object when there is none or no such person). */
  public java.util.Map<String, Object> publicMetadata(UUID userId) {
    return Metadata.parse(jdbi.withHandle(h -> Users.publicMetadata(h, userId)).orElse("{}"));
  }

  /** The name the person gave (for the {@code profile} scope). */
  public Users.Names names(UUID userId) {
    return jdbi.withHandle(h -> Users.names(h, userId));
  }

  public boolean isAdmin(UUID userId) {
    return jdbi.withHandle(h -> Users.hasRole(h, userId, Users.ADMIN));
  }

  public List<User> admins() {
    return jdbi.withHandle(h -> Users.withRole(h, Users.ADMIN));
  }
}
