package dev.sesame.support;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * Fills a migrated Sesame database with a population of a given size, in PostgreSQL itself
 * ({@code generate_series}; a million people in seconds): people over 400 days, passkeys from a few providers,
 * sessions with their refresh tokens (live, expired and signed out), and audit events of the kinds the dashboard
 * counts. The bench's scale runs and the plan-shape test use it.
 */
public final class Seed {
  /** How many of each. Passkeys: one for 60 % of people, a second for 40 %, so about as many as people. */
  public record Size(int users, int sessionsPerUser, long events) {
    public static final Size ISSUE = new Size(1_000_000, 2, 10_000_000);
  }

  private Seed() {}

  public static void seed(Connection c, Size size) throws SQLException {
    try (Statement s = c.createStatement()) {
      s.execute("SET synchronous_commit = off");
      people(s, size.users());
      sessions(s, size.sessionsPerUser());
      events(s, size.users(), size.events());
      s.execute("VACUUM ANALYZE");
    }
  }

  private static void people(Statement s, int users) throws SQLException {
    s.execute("""
        INSERT INTO users (id, email, email_verified, created_at, last_sign_in_at)
        SELECT md5('u' || i)::uuid, 'user' || i || '@example.com', true,
               now() - random() * interval '400 days', now() - random() * interval '90 days'
        FROM generate_series(1, %d) i""".formatted(users));
    for (int second = 0; second < 2; second++) {
      s.execute("""
          INSERT INTO passkeys (id, user_id, credential_id, public_key, algorithm, sign_count, aaguid,
                                backup_eligible, backup_state, uv_initialized, attestation_format, name, created_at)
          SELECT gen_random_uuid(), id, uuid_send(gen_random_uuid()), '\\x00'::bytea, -7, 0,
                 (ARRAY['fbfc3007-154e-4ecc-8c0b-6e020557d7bd', 'ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4',
                        '08987058-cadc-4b81-b6e1-30de50dcbe96', '00000000-0000-0000-0000-000000000000'])
                   [1 + abs(hashtext(id::text)) %% 4]::uuid,
                 true, true, true, 'none', 'Passkey', created_at + interval '1 minute' * %d
          FROM users WHERE abs(hashtext(id::text)) %% 10 < %d""".formatted(second + 1, second == 0 ? 6 : 4));
    }
  }

  /** Per person: sessions a quarter signed out, a quarter expired, half live; one refresh token each. */
  private static void sessions(Statement s, int perUser) throws SQLException {
    s.execute("""
        INSERT INTO sessions (id, user_id, auth_method, amr, auth_time, created_at, last_used_at, expires_at,
                              ip, user_agent, revoked_at, revoked_reason)
        SELECT gen_random_uuid(), u.id, 'passkey', '{swk,user}', t, t, t, t + interval '30 days',
               '192.0.2.' || (n %% 250), 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) Safari/605.1.15',
               CASE WHEN n %% 4 = 0 THEN t + interval '1 hour' END, CASE WHEN n %% 4 = 0 THEN 'logout' END
        FROM (SELECT id, row_number() OVER () AS n FROM users) u, generate_series(1, %d) k,
             LATERAL (SELECT now() - CASE WHEN (u.n + k) %% 4 = 1 THEN interval '40 days'
                                          ELSE random() * interval '20 days' END AS t) times""".formatted(perUser));
    s.execute("""
        INSERT INTO refresh_tokens (token_hash, session_id, created_at, expires_at)
        SELECT sha256(uuid_send(id)), id, last_used_at, expires_at FROM sessions""");
  }

  private static void events(Statement s, int users, long events) throws SQLException {
    long chunk = 1_000_000;
    for (long from = 1; from <= events; from += chunk) {
      long to = Math.min(events, from + chunk - 1);
      s.execute("""
          INSERT INTO audit_events (occurred_at, type, user_id, session_id, ip, details)
          SELECT now() - random() * interval '400 days',
                 CASE WHEN k < 9 THEN 'passkey.sign_in.succeeded' WHEN k < 14 THEN 'email.sign_in.succeeded'
                      WHEN k = 14 THEN 'passkey.sign_in.failed' WHEN k = 15 THEN 'email.sign_in.failed'
                      WHEN k = 16 THEN 'passkey.added' ELSE 'session.revoked' END,
                 md5('u' || (1 + (i * 7919) %% %d))::uuid, md5('s' || i)::uuid, '192.0.2.' || (i %% 250),
                 CASE WHEN k < 9 THEN jsonb_build_object('passkeyId', md5('p' || i))
                      WHEN k < 14 THEN jsonb_build_object('method',
                        (ARRAY['code', 'link', 'link_other_device'])[1 + i %% 3], 'passkeyOffer', i %% 2 = 0)
                      WHEN k < 16 THEN jsonb_build_object('reason',
                        (ARRAY['wrong_code', 'flow_expired', 'unknown_credential'])[1 + i %% 3])
                      WHEN k = 16 THEN jsonb_build_object('provider',
                        (ARRAY['iCloud Keychain', 'Google Password Manager', 'Windows Hello'])[1 + i %% 3])
                      ELSE jsonb_build_object('reason', 'logout') END
          FROM (SELECT i, i %% 20 AS k FROM generate_series(%d::bigint, %d::bigint) i) g"""
          .formatted(users, from, to));
    }
  }
}
