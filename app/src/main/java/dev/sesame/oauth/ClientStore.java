package dev.sesame.oauth;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.Optional;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.statement.SqlStatement;

/** The only code that reads and writes {@code oauth_clients}. */
final class ClientStore {
  private ClientStore() {}

  private static final String COLUMNS = """
      client_id, client_name, secret_hash, token_endpoint_auth_method, redirect_uris, post_logout_redirect_uris,
      grant_types, scopes, web_origins, id_token_signed_response_alg, backchannel_logout_uri, source""";

  /** A client with the hash of its secret (null for a public client). */
  record Stored(Client client, byte[] secretHash) {}

  static Optional<Stored> find(Handle h, String clientId) {
    return h.createQuery("SELECT " + COLUMNS + " FROM oauth_clients WHERE client_id = :id")
        .bind("id", clientId).map((rs, ctx) -> map(rs)).findOne();
  }

  static List<Client> list(Handle h) {
    return h.createQuery("SELECT " + COLUMNS + " FROM oauth_clients ORDER BY client_id")
        .map((rs, ctx) -> map(rs).client()).list();
  }

  /** Inserts a new client; false when its id is taken. */
  static boolean insert(Handle h, Client c, byte[] secretHash) {
    return bind(h.createUpdate("""
            INSERT INTO oauth_clients (""" + COLUMNS + """
            ) VALUES (:id, :name, :secretHash, :method, :redirectUris, :postLogout, :grantTypes, :scopes, :origins,
                      :alg, :backchannel, :source)
            ON CONFLICT (client_id) DO NOTHING"""), c, secretHash).execute() == 1;
  }

  /**
   * Writes a client's metadata and secret hash; with {@code onlyIfChanged}, a row that already says the same is left
   * alone (no new {@code updated_at}), so applying the same file twice changes nothing. Returns rows changed.
   */
  static int upsert(Handle h, Client c, byte[] secretHash, boolean onlyIfChanged) {
    return bind(h.createUpdate("""
            INSERT INTO oauth_clients (""" + COLUMNS + """
            ) VALUES (:id, :name, :secretHash, :method, :redirectUris, :postLogout, :grantTypes, :scopes, :origins,
                      :alg, :backchannel, :source)
            ON CONFLICT (client_id) DO UPDATE SET
              client_name = excluded.client_name, secret_hash = excluded.secret_hash,
              token_endpoint_auth_method = excluded.token_endpoint_auth_method,
              redirect_uris = excluded.redirect_uris, post_logout_redirect_uris = excluded.post_logout_redirect_uris,
              grant_types = excluded.grant_types, scopes = excluded.scopes, web_origins = excluded.web_origins,
              id_token_signed_response_alg = excluded.id_token_signed_response_alg,
              backchannel_logout_uri = excluded.backchannel_logout_uri, source = excluded.source, updated_at = now()
            """ + (onlyIfChanged ? """
            WHERE (oauth_clients.client_name, oauth_clients.secret_hash, oauth_clients.token_endpoint_auth_method,
                   oauth_clients.redirect_uris, oauth_clients.post_logout_redirect_uris, oauth_clients.grant_types,
                   oauth_clients.scopes, oauth_clients.web_origins, oauth_clients.id_token_signed_response_alg,
                   oauth_clients.backchannel_logout_uri, oauth_clients.source)
              IS DISTINCT FROM
                  (excluded.client_name, excluded.secret_hash, excluded.token_endpoint_auth_method,
                   excluded.redirect_uris, excluded.post_logout_redirect_uris, excluded.grant_types, excluded.scopes,
                   excluded.web_origins, excluded.id_token_signed_response_alg, excluded.backchannel_logout_uri,
                   excluded.source)""" : "")), c, secretHash).execute();
  }

  static boolean delete(Handle h, String clientId) {
    return h.createUpdate("DELETE FROM oauth_clients WHERE client_id = :id").bind("id", clientId).execute() == 1;
  }

  /** Deletes the file-managed clients whose ids are not in {@code keep}; returns how many. */
  static int deleteFileClientsExcept(Handle h, List<String> keep) {
    return h.createUpdate("DELETE FROM oauth_clients WHERE source = 'file' AND NOT client_id = ANY(:keep)")
        .bind("keep", keep.toArray(String[]::new)).execute();
  }

  private static <S extends SqlStatement<S>> S bind(S s, Client c, byte[] secretHash) {
    return s.bind("id", c.clientId()).bind("name", c.clientName()).bind("secretHash", secretHash)
        .bind("method", c.authMethod().value()).bind("redirectUris", c.redirectUris().toArray(String[]::new))
        .bind("postLogout", c.postLogoutRedirectUris().toArray(String[]::new))
        .bind("grantTypes", c.grantTypes().toArray(String[]::new)).bind("scopes", c.scopes().toArray(String[]::new))
        .bind("origins", c.webOrigins().toArray(String[]::new)).bind("alg", c.idTokenSignedResponseAlg())
        .bind("backchannel", c.backchannelLogoutUri().orElse(null))
        .bind("source", c.source().name().toLowerCase(java.util.Locale.ROOT));
  }

  private static Stored map(ResultSet rs) throws SQLException {
    Client client = new Client(rs.getString("client_id"), rs.getString("client_name"),
        Client.AuthMethod.of(rs.getString("token_endpoint_auth_method")), list(rs, "redirect_uris"),
        list(rs, "post_logout_redirect_uris"), list(rs, "grant_types"),
        list(rs, "scopes"), list(rs, "web_origins"),
        rs.getString("id_token_signed_response_alg"), Optional.ofNullable(rs.getString("backchannel_logout_uri")),
        Client.Source.valueOf(rs.getString("source").toUpperCase(java.util.Locale.ROOT)));
    return new Stored(client, rs.getBytes("secret_hash"));
  }

  /** A text[] column; an empty list for none. */
  private static List<String> list(ResultSet rs, String column) throws SQLException {
    List<String> values = dev.sesame.db.Sql.strings(rs, column);
    return values == null ? List.of() : values;
  }

}
