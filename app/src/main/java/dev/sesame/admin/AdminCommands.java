package dev.sesame.admin;

import dev.sesame.audit.AuditLog;
import dev.sesame.users.User;
import dev.sesame.users.UserDirectory;
import dev.sesame.users.Users;
import java.io.PrintStream;
import java.util.Map;
import java.util.Optional;
import org.jdbi.v3.core.Jdbi;

/** {@code java -jar sesame.jar admin grant|revoke EMAIL} and {@code admin list}: who may use the admin console. */
public final class AdminCommands {
  private AdminCommands() {}

  /** Gives ({@code grant}) or takes the admin role, audited as done by {@code cli}; the exit status. */
  public static int setRole(Jdbi jdbi, String email, boolean grant, PrintStream out, PrintStream err) {
    Optional<User> user = jdbi.inTransaction(h -> {
      Optional<User> changed = Users.setRole(h, email, Users.ADMIN, grant);
      changed.ifPresent(u -> AuditLog.actingAs("cli", () -> new AuditLog().record(h, grant
          ? AuditLog.Type.ADMIN_ROLE_GRANTED : AuditLog.Type.ADMIN_ROLE_REVOKED, u.id(), null, null, Map.of())));
      return changed;
    });
    if (user.isEmpty()) {
      err.println("No account with the email '" + email + "'; the person signs in once first.");
      return 1;
    }
    out.println((grant ? "Granted the admin role to " : "Revoked the admin role of ") + user.get().email() + ".");
    return 0;
  }

  public static int list(Jdbi jdbi, PrintStream out) {
    new UserDirectory(jdbi).admins().forEach(u -> out.println(u.email() + "\t" + u.id()));
    return 0;
  }
}
