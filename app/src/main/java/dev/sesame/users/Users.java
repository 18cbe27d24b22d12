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

  /**
   * A verified sign-in, whether it created the account, and whether the person has a passkey (without one, the
   * sign-in page offers to create one).
   */
  public record SignedIn(User user, boolean created, boolean hasPasskey) {}

  public static Optional<User> findById(Handle h, UUID id) {
    return h.createQuery("SELECT " + COLUMNS + " FROM users WHERE id = :id").bind("id", id)
        .map((rs, ctx) -> map(rs)).findOne();
  }

  /**
   * Locks the person's row for the rest of the transaction (what serializes changes to one person: the passkey cap,
   * an address change); their address, or empty when there is no such person.
   */
  public static Optional<String> lock(Handle h, UUID id) {
    return h.createQuery("SELECT email FROM users WHERE id = :id FOR UPDATE").bind("id", id)
        .mapTo(String.class).findOne();
  }

  /** The WebAuthn user handle of the person (random, made with the account). */
  public static byte[] webauthnUserHandle(Handle h, UUID id) {
    return h.createQuery("SELECT webauthn_user_handle FROM users WHERE id = :id").bind("id", id)
        .mapTo(byte[].class).one();
  }

  /**
   * The statement that records a passkey sign-in of {@code :userId} when {@code condition} (SQL of the same
   * statement) holds, for a feature to put in its own data-modifying CTE (one round trip): it re-checks "not
   * disabled" on the newest row version after any lock wait, so a sign-in racing an operator's disable either
   * finishes first or returns no row; the row it returns maps with {@link #map}.
   */
  public static String recordSignInIf(String condition) {
    return "UPDATE users SET last_sign_in_at = now() WHERE id = :userId AND disabled_at IS NULL AND (" + condition
        + ") RETURNING " + COLUMNS;
  }

  /**
   * A one-row query with {@code ok}: false when {@code :email} belongs to a disabled account, for a statement that
   * writes only for addresses that may sign in (email start writes its flow and message in the same statement).
   */
  public static final String MAY_SIGN_IN_BY_EMAIL =
      "SELECT NOT EXISTS (SELECT 1 FROM users WHERE lower(email) = :email AND disabled_at IS NOT NULL) AS ok";

  public static Optional<User> findByEmail(Handle h, String email) {
    return h.createQuery("SELECT " + COLUMNS + " FROM users WHERE lower(email) = lower(:email)").bind("email", email)
        .map((rs, ctx) -> map(rs)).findOne();
  }

  /**
   * Records a verified sign-in for {@code email}, creating the user the first time ({@code xmax = 0} only for a
   * freshly inserted row); empty when the account is disabled.
   */
  public static Optional<SignedIn> signInVerifiedEmail(Handle h, UUID newId, String email) {
    return h.createQuery("""
            INSERT INTO users (id, email, email_verified, last_sign_in_at) VALUES (:newId, lower(:email), true, now())
            ON CONFLICT (lower(email)) DO UPDATE SET email_verified = true, last_sign_in_at = now()
              WHERE users.disabled_at IS NULL
            RETURNING id, email, email_verified, created_at, last_sign_in_at, (xmax = 0) AS created,
                      EXISTS (SELECT 1 FROM passkeys p WHERE p.user_id = users.id) AS has_passkey
            """)
        .bind("newId", newId).bind("email", email)
        .map((rs, ctx) -> new SignedIn(map(rs), rs.getBoolean("created"), rs.getBoolean("has_passkey"))).findOne();
  }

  /** The admin role: the console and the admin API (granted with {@code admin grant EMAIL}). */
  public static final String ADMIN = "admin";

  /** Gives or takes a role; the user, or empty when there is no account with that email. */
  public static Optional<User> setRole(Handle h, String email, String role, boolean granted) {
    return h.createQuery(granted ? """
            UPDATE users SET roles = CASE WHEN :role = ANY (roles) THEN roles ELSE array_append(roles, :role) END
            WHERE lower(email) = lower(:email) RETURNING """ + " " + COLUMNS : """
            UPDATE users SET roles = array_remove(roles, :role)
            WHERE lower(email) = lower(:email) RETURNING """ + " " + COLUMNS)
        .bind("role", role).bind("email", email).map((rs, ctx) -> map(rs)).findOne();
  }

  public static boolean hasRole(Handle h, UUID userId, String role) {
    return h.createQuery("SELECT EXISTS (SELECT 1 FROM users WHERE id = :id AND :role = ANY (roles))")
        .bind("id", userId).bind("role", role).mapTo(Boolean.class).one();
  }

  /** The people holding {@code role}, by email. */
  public static java.util.List<User> withRole(Handle h, String role) {
    return h.createQuery("SELECT " + COLUMNS + " FROM users WHERE :role = ANY (roles) ORDER BY email")
        .bind("role", role).map((rs, ctx) -> map(rs)).list();
  }

  /** A user as the admin list shows them. */
  public record Listed(User user, java.util.List<String> roles, int passkeys, java.time.Instant disabledAt,
                       String publicMetadata, String privateMetadata) {}

  /** Disables (signing in is refused) or enables an account; false when there is no such user. */
  public static boolean setDisabled(Handle h, UUID id, boolean disabled) {
    return h.createUpdate(disabled
            ? "UPDATE users SET disabled_at = coalesce(disabled_at, now()) WHERE id = :id"
            : "UPDATE users SET disabled_at = NULL WHERE id = :id")
        .bind("id", id).execute() > 0;
  }

  public static boolean isDisabled(Handle h, String email) {
    return h.createQuery("SELECT EXISTS (SELECT 1 FROM users WHERE lower(email) = lower(:email) "
            + "AND disabled_at IS NOT NULL)")
        .bind("email", email).mapTo(Boolean.class).one();
  }

  /** A new account for {@code email} (not yet verified: the first sign-in verifies it); empty when one exists. */
  public static Optional<User> create(Handle h, UUID id, String email) {
    return h.createQuery("INSERT INTO users (id, email) VALUES (:id, lower(:email)) "
            + "ON CONFLICT (lower(email)) DO NOTHING RETURNING " + COLUMNS)
        .bind("id", id).bind("email", email).map((rs, ctx) -> map(rs)).findOne();
  }

  /** Deletes the account row; its passkeys, sessions and ceremonies go with it (foreign keys). */
  public static boolean delete(Handle h, UUID id) {
    return h.createUpdate("DELETE FROM users WHERE id = :id").bind("id", id).execute() > 0;
  }

  /** The most JSON a person's public or private metadata may hold (UTF-8 bytes, as Sesame serializes it). */
  public static final int MAX_METADATA_BYTES = 4096;

  /** The name a person gave on the account page; either part may be null. */
  public record Names(String givenName, String familyName) {
    public static final Names NONE = new Names(null, null);

    /**
     * The OpenID Connect profile claims (Core §5.1) these names make: {@code given_name}, {@code family_name} and
     * {@code name} (the two joined), each only when known.
     */
    public java.util.Map<String, Object> claims() {
      java.util.Map<String, Object> out = new java.util.LinkedHashMap<>();
      String name = String.join(" ", java.util.stream.Stream.of(givenName, familyName)
          .filter(java.util.Objects::nonNull).toList());
      if (!name.isEmpty()) {
        out.put("name", name);
      }
      if (givenName != null) {
        out.put("given_name", givenName);
      }
      if (familyName != null) {
        out.put("family_name", familyName);
      }
      return out;
    }
  }

  /** The person's names; {@link Names#NONE} when they gave none or there is no such person. */
  public static Names names(Handle h, UUID id) {
    return h.createQuery("SELECT given_name, family_name FROM users WHERE id = :id").bind("id", id)
        .map((rs, ctx) -> new Names(rs.getString("given_name"), rs.getString("family_name"))).findOne()
        .orElse(Names.NONE);
  }

  /** Replaces the person's names (null clears one); false when there is no such user. */
  public static boolean setNames(Handle h, UUID id, Names names) {
    return h.createUpdate("UPDATE users SET given_name = :given, family_name = :family WHERE id = :id")
        .bind("given", names.givenName()).bind("family", names.familyName()).bind("id", id).execute() > 0;
  }

  /** The public metadata (JSON object text) apps see with the {@code metadata} scope; empty when no such user. */
  public static Optional<String> publicMetadata(Handle h, UUID id) {
    return h.createQuery("SELECT public_metadata::text FROM users WHERE id = :id").bind("id", id)
        .mapTo(String.class).findOne();
  }

  /** Replaces the given metadata (a null argument leaves that one as it is); false when there is no such user. */
  public static boolean setMetadata(Handle h, UUID id, String publicJson, String privateJson) {
    return h.createUpdate("""
            UPDATE users SET public_metadata = coalesce(CAST(:pub AS jsonb), public_metadata),
                             private_metadata = coalesce(CAST(:priv AS jsonb), private_metadata)
            WHERE id = :id""")
        .bind("id", id).bind("pub", publicJson).bind("priv", privateJson).execute() > 0;
  }

  /** Changes the address (already verified); false when another account has it. */
  public static boolean changeEmail(Handle h, UUID id, String email) {
    return h.createUpdate("""
            UPDATE users SET email = lower(:email), email_verified = true WHERE id = :id
              AND NOT EXISTS (SELECT 1 FROM users o WHERE lower(o.email) = lower(:email) AND o.id <> :id)""")
        .bind("id", id).bind("email", email).execute() > 0;
  }

  /** Where a page of the admin list starts: after this creation time and id. */
  public record Cursor(java.time.Instant createdAt, UUID id) {}

  /**
   * Filters of the admin list; null or empty fields don't filter. {@code emailPrefix} is matched case-insensitively
   * as a prefix (an index serves it); {@code hasPasskey} false: people who sign in by email only.
   */
  public record Filter(String emailPrefix, UUID id, Boolean hasPasskey, Boolean disabled,
                       java.time.Instant createdFrom,
                       java.time.Instant createdTo, java.time.Instant signedInFrom, java.time.Instant signedInTo) {}

  /**
   * A page of users in creation order after {@code after} (keyset paging: as fast on the millionth row as on the
   * first), at most {@code limit}; one round trip.
   */
  public static java.util.List<Listed> page(Handle h, Filter f, Cursor after, int limit) {
    StringBuilder sql = new StringBuilder("""
        SELECT u.id, u.email, u.email_verified, u.created_at, u.last_sign_in_at, u.roles, u.disabled_at,
               u.public_metadata::text AS public_metadata, u.private_metadata::text AS private_metadata,
               (SELECT count(*) FROM passkeys p WHERE p.user_id = u.id) AS passkeys
        FROM users u WHERE true""");
    java.util.Map<String, Object> binds = new java.util.HashMap<>();
    if (f.emailPrefix() != null && !f.emailPrefix().isEmpty()) {
      sql.append(" AND lower(u.email) LIKE :prefix ESCAPE '\\'");
      binds.put("prefix", f.emailPrefix().toLowerCase(java.util.Locale.ROOT).replace("\\", "\\\\")
          .replace("%", "\\%").replace("_", "\\_") + "%");
    }
    if (f.disabled() != null) {
      sql.append(f.disabled() ? " AND u.disabled_at IS NOT NULL" : " AND u.disabled_at IS NULL");
    }
    if (f.id() != null) {
      sql.append(" AND u.id = :id");
      binds.put("id", f.id());
    }
    if (f.hasPasskey() != null) {
      sql.append(f.hasPasskey() ? " AND" : " AND NOT").append(" EXISTS (SELECT 1 FROM passkeys p WHERE p.user_id = u.id)");
    }
    String[][] ranges = {{"created_at", "createdFrom", ">="}, {"created_at", "createdTo", "<"},
        {"last_sign_in_at", "signedInFrom", ">="}, {"last_sign_in_at", "signedInTo", "<"}};
    java.time.Instant[] values = {f.createdFrom(), f.createdTo(), f.signedInFrom(), f.signedInTo()};
    for (int i = 0; i < ranges.length; i++) {
      if (values[i] != null) {
        sql.append(" AND u.").append(ranges[i][0]).append(' ').append(ranges[i][2]).append(" :").append(ranges[i][1]);
        binds.put(ranges[i][1], values[i]);
      }
    }
    if (after != null) {
      sql.append(" AND (u.created_at, u.id) > (:afterCreated, :afterId)");
      binds.put("afterCreated", after.createdAt());
      binds.put("afterId", after.id());
    }
    sql.append(" ORDER BY u.created_at, u.id LIMIT :limit");
    binds.put("limit", limit);
    return h.createQuery(sql.toString()).bindMap(binds)
        .map((rs, ctx) -> new Listed(map(rs), Sql.strings(rs, "roles"), rs.getInt("passkeys"),
            Sql.instant(rs, "disabled_at"), rs.getString("public_metadata"), rs.getString("private_metadata")))
        .list();
  }

  /**
   * One account as the export format carries it; the metadata are JSON object texts (null on import: none).
   */
  public record Transfer(UUID id, String email, boolean emailVerified, java.time.Instant createdAt,
                         byte[] webauthnUserHandle, boolean disabled, String publicMetadata,
                         String privateMetadata) {}

  private static final String TRANSFER_COLUMNS = """
      id, email, email_verified, created_at, webauthn_user_handle, disabled_at IS NOT NULL AS disabled,
      public_metadata::text AS public_metadata, private_metadata::text AS private_metadata""";

  private static Transfer transfer(ResultSet rs) throws SQLException {
    return new Transfer(rs.getObject("id", UUID.class), rs.getString("email"), rs.getBoolean("email_verified"),
        Sql.instant(rs, "created_at"), rs.getBytes("webauthn_user_handle"), rs.getBoolean("disabled"),
        rs.getString("public_metadata"), rs.getString("private_metadata"));
  }

  /** A page of accounts in creation order after {@code after} (null: from the first), for a streamed export. */
  public static java.util.List<Transfer> exportPage(Handle h, Cursor after, int limit) {
    return h.createQuery("SELECT " + TRANSFER_COLUMNS + " FROM users"
            + (after == null ? "" : " WHERE (created_at, id) > (:afterCreated, :afterId)")
            + " ORDER BY created_at, id LIMIT :limit")
        .bind("afterCreated", after == null ? null : after.createdAt())
        .bind("afterId", after == null ? null : after.id())
        .bind("limit", limit)
        .map((rs, ctx) -> transfer(rs)).list();
  }

  /**
   * Adds the accounts an import brings (a batch); an address that has an account already keeps it as it is.
   * Returns how many were added.
   */
  public static int importAll(Handle h, java.util.List<Transfer> accounts) {
    if (accounts.isEmpty()) {
      return 0;
    }
    org.jdbi.v3.core.statement.PreparedBatch batch = h.prepareBatch("""
        INSERT INTO users (id, email, email_verified, created_at, webauthn_user_handle, disabled_at,
                           public_metadata, private_metadata)
        VALUES (:id, lower(:email), :verified, coalesce(:createdAt, now()),
                coalesce(:handle, uuid_send(gen_random_uuid())), CASE WHEN :disabled THEN now() END,
                coalesce(CAST(:pub AS jsonb), '{}'), coalesce(CAST(:priv AS jsonb), '{}'))
        ON CONFLICT DO NOTHING
        """);
    for (Transfer t : accounts) {
      batch.bind("id", t.id()).bind("email", t.email()).bind("verified", t.emailVerified())
          .bind("createdAt", t.createdAt()).bind("handle", t.webauthnUserHandle()).bind("disabled", t.disabled())
          .bind("pub", t.publicMetadata()).bind("priv", t.privateMetadata())
          .add();
    }
    // Only inserted rows come back (ON CONFLICT DO NOTHING): the driver's batch counts can't tell.
    return batch.executePreparedBatch("id").mapTo(UUID.class).list().size();
  }

  /** The accounts of these addresses (lower-cased): their ids and WebAuthn user handles. */
  public static java.util.Map<String, Transfer> byEmails(Handle h, java.util.List<String> emails) {
    java.util.Map<String, Transfer> out = new java.util.HashMap<>();
    h.createQuery("SELECT " + TRANSFER_COLUMNS + " FROM users WHERE lower(email) = ANY (:emails)")
        .bind("emails", emails.toArray(String[]::new))
        .map((rs, ctx) -> out.put(rs.getString("email"), transfer(rs)))
        .list();
    return out;
  }

  public static User map(ResultSet rs) throws SQLException {
    return new User(rs.getObject("id", UUID.class), rs.getString("email"), rs.getBoolean("email_verified"),
        Sql.instant(rs, "created_at"),
        Sql.instant(rs, "last_sign_in_at"));
  }
}
