package dev.sesame.users;

import java.util.Optional;
import java.util.UUID;
import org.jdbi.v3.sqlobject.config.RegisterConstructorMapper;
import org.jdbi.v3.sqlobject.customizer.Bind;
import org.jdbi.v3.sqlobject.statement.SqlQuery;

/** Users by id or email. Emails are stored lower-cased and matched case-insensitively. */
@RegisterConstructorMapper(User.class)
public interface UserDao {
  @SqlQuery("SELECT * FROM users WHERE id = :id")
  Optional<User> findById(@Bind("id") UUID id);

  @SqlQuery("SELECT * FROM users WHERE lower(email) = lower(:email)")
  Optional<User> findByEmail(@Bind("email") String email);

  /**
   * Records a verified sign-in for {@code email}, creating the user the first time. {@code created} tells which
   * happened ({@code xmax = 0} only for a freshly inserted row).
   */
  @SqlQuery("""
      INSERT INTO users (id, email, email_verified, last_sign_in_at) VALUES (:newId, lower(:email), true, now())
      ON CONFLICT (lower(email)) DO UPDATE SET email_verified = true, last_sign_in_at = now()
      RETURNING id, email, email_verified, created_at, last_sign_in_at, (xmax = 0) AS created
      """)
  @RegisterConstructorMapper(SignedIn.class)
  SignedIn signInVerifiedEmail(@Bind("newId") UUID newId, @Bind("email") String email);

  record SignedIn(UUID id, String email, boolean emailVerified, java.time.Instant createdAt,
                  java.time.Instant lastSignInAt, boolean created) {
    public User user() {
      return new User(id, email, emailVerified, createdAt, lastSignInAt);
    }
  }
}
