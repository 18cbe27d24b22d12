package dev.sesame.admin;

import dev.sesame.common.ApiException;
import dev.sesame.http.RequestAuth;
import dev.sesame.oauth.ServiceKeys;
import dev.sesame.sessions.SessionService;
import dev.sesame.users.UserDirectory;
import io.javalin.http.Context;

/**
 * Who may call the admin API, and how the audit log names them: a service key with the scope the endpoint needs
 * ({@code key:<name>}), or a person with the admin role in the console, on Sesame's own origin with the session
 * cookie (CSRF-checked for changes), signed in with a passkey and user verification ({@code admin:<user id>}).
 */
final class AdminAuth {
  private final ServiceKeys serviceKeys;
  private final RequestAuth auth;
  private final UserDirectory users;

  AdminAuth(ServiceKeys serviceKeys, RequestAuth auth, UserDirectory users) {
    this.serviceKeys = serviceKeys;
    this.auth = auth;
    this.users = users;
  }

  /**
   * {@link #require}, for a change to how the person {@code target} signs in or whether they can (their address,
   * passkeys, disabling, erasure). When they are an administrator it takes an administrator in the console or a
   * service key with {@code admins:write} besides {@code scope}: a {@code users:write} key alone must not be able to
   * move an administrator's address to its holder's mailbox, or plant its holder's passkey on them, and so take over
   * the console (the audit did both).
   */
  String requireForPerson(Context ctx, String scope, java.util.UUID target) {
    String actor = require(ctx, scope);
    if (actor.startsWith("key:") && users.isAdmin(target) && !mayChangeAdministrators(ctx)) {
      throw new ApiException(403, "administrator_target", "This person is an administrator: changing how they sign "
          + "in takes an administrator in the console, or a service key with the scope 'admins:write'.");
    }
    return actor;
  }

  /** Whether the caller may change administrators' ways of signing in (see {@link #requireForPerson}). */
  boolean mayChangeAdministrators(Context ctx) {
    String header = ctx.header("Authorization");
    if (header == null) {
      return true; // the console: require() has checked the admin role already
    }
    return serviceKeys.authenticate(header).may(ADMINS_WRITE);
  }

  static final String ADMINS_WRITE = "admins:write";

  /** The audit actor of an allowed caller; 401 or 403 problem otherwise. */
  String require(Context ctx, String scope) {
    String header = ctx.header("Authorization");
    if (header != null) {
      if (!header.regionMatches(true, 0, "Bearer sk_", 0, 10)) {
        throw new ApiException(401, "invalid_client", "The admin API takes a service key ('Authorization: Bearer "
            + "sk_…') or the admin console's session.");
      }
      ServiceKeys.Caller key = serviceKeys.authenticate(header);
      if (!key.may(scope)) {
        throw new ApiException(403, "insufficient_scope", "This service key does not have the scope '" + scope
            + "' (java -jar sesame.jar service-key create NAME --scopes " + scope + ").");
      }
      return "key:" + key.name();
    }
    SessionService.ActiveSession session = auth.require(ctx);
    if (!users.isAdmin(session.user().id())) {
      throw new ApiException(403, "admin_required", "This account is not an administrator "
          + "(java -jar sesame.jar admin grant EMAIL).");
    }
    // RFC 8176: a passkey (hwk/swk) with user verification; an email code or link is not enough to administer.
    boolean passkey = session.amr().contains("hwk") || session.amr().contains("swk");
    if (!passkey || !session.amr().contains("user")) {
      throw new ApiException(403, "passkey_required", "Sign in to the admin console with a passkey.");
    }
    return "admin:" + session.user().id();
  }
}
