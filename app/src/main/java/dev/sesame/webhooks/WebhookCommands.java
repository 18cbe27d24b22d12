package dev.sesame.webhooks;

import java.io.PrintStream;
import java.util.List;
import java.util.UUID;

/** {@code java -jar sesame.jar webhook create URL [--events a,b] | list | delete ID}. */
public final class WebhookCommands {
  public static final String USAGE = """
        webhook create URL [--events E,…]
                                     send events to URL (https; http only to this machine), signed per Standard
                                     Webhooks; prints the endpoint's secret (whsec_…) once. Events: all, or some of
                                     user.created, user.updated, user.deleted, user.disabled, signin.succeeded,
                                     signin.failed, passkey.added, passkey.removed, session.revoked,
                                     email.delivery_failed
        webhook rotate ID            a new secret for the endpoint, printed once; the old one also signs for 24 hours
        webhook list                 list webhook endpoints
        webhook delete ID            delete an endpoint and its pending deliveries
      """;

  private WebhookCommands() {}

  public static int run(Webhooks webhooks, List<String> args, PrintStream out, PrintStream err) {
    try {
      String command = args.isEmpty() ? "" : args.get(0);
      switch (command) {
        case "create" -> {
          boolean withEvents = args.size() == 4 && args.get(2).equals("--events");
          if (args.size() != 2 && !withEvents) {
            break;
          }
          List<String> events = withEvents ? List.of(args.get(3).split(",")) : List.of();
          Webhooks.Created created = webhooks.create(args.get(1), events);
          err.println("Webhook endpoint " + created.endpoint().id() + " created for "
              + (events.isEmpty() ? "every event" : String.join(", ", events))
              + ". Its signing secret is shown once; give it to the receiver:");
          out.println(created.secret());
          return 0;
        }
        case "list" -> {
          webhooks.list().forEach(e -> out.println(e.id() + "\t" + e.url() + "\t"
              + (e.events().isEmpty() ? "all events" : String.join(",", e.events())) + "\t"
              + (e.enabled() ? "enabled" : "disabled")));
          return 0;
        }
        case "rotate" -> {
          if (args.size() != 2) {
            break;
          }
          java.util.Optional<String> secret = webhooks.rotate(UUID.fromString(args.get(1)));
          if (secret.isEmpty()) {
            err.println("No webhook endpoint " + args.get(1) + ".");
            return 1;
          }
          err.println("New secret for " + args.get(1) + " (the previous one also signs for the next 24 hours):");
          out.println(secret.get());
          return 0;
        }
        case "delete" -> {
          if (args.size() != 2) {
            break;
          }
          if (!webhooks.delete(UUID.fromString(args.get(1)))) {
            err.println("No webhook endpoint " + args.get(1) + ".");
            return 1;
          }
          out.println("Deleted webhook endpoint " + args.get(1) + ".");
          return 0;
        }
        default -> {
          // usage below
        }
      }
    } catch (IllegalArgumentException e) {
      err.println("sesame: " + e.getMessage());
      return 2;
    }
    err.println("usage:\n" + USAGE);
    return 2;
  }
}
