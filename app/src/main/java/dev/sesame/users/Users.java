package dev.sesame.users;

import dev.sesame.db.Sql;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Optional;
import java.util.UUID;
import org.jdbi.v3.core.Handle;

/**
 * Users by id or email, within the caller's transaction. Emails are stored lower-cased and matched
 * case-insensitively. (Plain Jdbi statements rather than a SqlObject: attaching a SqlObject to a handle on every
 * request was 22% of the server's CPU under refresh load.)
 */
public final class Users {
  private static final String COLUMNS = "id, email, email_verified, created_at, last_sign_in_at";

  private Users() {}

  /** A verified sign-in and whether it created the account. */
  public record SignedIn(User user, boolean created) {}

  public static Optional<User> findById(Handle h, UUID id) {
    return h.createQuery("SELECT " + COLUMNS + " FROM users WHERE id = :id").bind("id", id)
        .map((rs, ctx) -> map(rs)).findOne();
  }

  public static Optional<User> findByEmail(Handle h, String email) {
    return h.createQuery("SELECT " + COLUMNS + " FROM users WHERE lower(email) = lower(:email)").bind("email", email)
        .map((rs, ctx) -> map(rs)).findOne();
  }

  /**
   * Records a verified sign-in for {@code email}, creating the user the first time ({@code xmax = 0} only for a
   * freshly inserted row).
   */
  public static SignedIn signInVerifiedEmail(Handle h, UUID newId, String email) {
    return h.createQuery("""
            INSERT INTO users (id, email, email_verified, last_sign_in_at) VALUES (:newId, lower(:email), true, now())
            ON CONFLICT (lower(email)) DO UPDATE SET email_verified = true, last_sign_in_at = now()
            RETURNING id, email, email_verified, created_at, last_sign_in_at, (xmax = 0) AS created
            """)
        .bind("newId", newId).bind("email", email)
        .map((rs, ctx) -> new SignedIn(map(rs), rs.getBoolean("created"))).one();
  }

  public static User map(ResultSet rs) throws SQLException {
    return new User(rs.getObject("id", UUID.class), rs.getString("email"), rs.getBoolean("email_verified"),
        Sql.instant(rs, "created_at"),
        Sql.instant(rs, "last_sign_in_at"));
  }
}
