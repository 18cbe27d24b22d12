package dev.sesame.oauth;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.sesame.common.ApiException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code java -jar sesame.jar client …}: create, list, show, update, delete and rotate the secret of OAuth clients.
 * Metadata is printed as RFC 7591 JSON; a secret only when it is made.
 */
public final class ClientCommands {
  public static final String USAGE = """
        client create [flags]        register a client; prints its metadata and, once, its client_secret
        client list                  list clients
        client show ID               print a client's metadata
        client update ID [flags]     change the given metadata, keep the rest
        client delete ID             delete a client
        client rotate-secret ID      replace a confidential client's secret; prints the new one, once
          flags: --client-id ID  --name NAME  --redirect-uri URI (repeatable)
                 --post-logout-redirect-uri URI (repeatable)  --public
                 --auth-method client_secret_basic|client_secret_post|none
                 --grant-types authorization_code,refresh_token  --scope "openid email profile offline_access"
                 --web-origin ORIGIN (repeatable)  --id-token-alg RS256|ES256  --backchannel-logout-uri URI
      """;
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private ClientCommands() {}

  /** Runs {@code args} (after the word {@code client}); returns the exit status. */
  public static int run(Clients clients, List<String> args, PrintStream out, PrintStream err) {
    if (args.isEmpty()) {
      err.println(USAGE);
      return 2;
    }
    String command = args.get(0);
    List<String> rest = args.subList(1, args.size());
    try {
      switch (command) {
        case "create" -> {
          Clients.Issued issued = clients.create(flags(rest), Client.Source.MANAGED);
          print(out, issued);
          issued.secret().ifPresent(s -> err.println("The client_secret is shown once; store it as a secret."));
        }
        case "list" -> {
          for (Client c : clients.list()) {
            out.println(c.clientId() + "\t" + c.clientName() + "\t" + c.authMethod().value() + "\t"
                + c.source().name().toLowerCase() + "\t" + String.join(" ", c.redirectUris()));
          }
        }
        case "show" -> out.println(json(clients.find(id(rest)).orElseThrow(() -> new ApiException(404,
            "client_not_found", "There is no client '" + id(rest) + "'.")).metadata()));
        case "update" -> {
          Clients.Issued issued = clients.update(id(rest), flags(rest.subList(1, rest.size())));
          print(out, issued);
          issued.secret().ifPresent(s -> err.println("The client is confidential now; its client_secret is shown "
              + "once."));
        }
        case "delete" -> {
          clients.delete(id(rest));
          out.println("Deleted client '" + id(rest) + "'.");
        }
        case "rotate-secret" -> {
          out.println(clients.rotateSecret(id(rest)));
          err.println("New client_secret for '" + id(rest) + "' (shown once); the old one no longer works.");
        }
        default -> {
          err.println(USAGE);
          return 2;
        }
      }
      return 0;
    } catch (ClientMetadata.Invalid e) {
      err.println("sesame: " + e.error() + ": " + e.getMessage());
      return 2;
    } catch (IllegalArgumentException e) {
      err.println("sesame: " + e.getMessage());
      return 2;
    } catch (ApiException e) {
      err.println("sesame: " + e.detail());
      return 1;
    }
  }

  private static String id(List<String> rest) {
    if (rest.isEmpty() || rest.get(0).startsWith("--")) {
      throw new IllegalArgumentException("name the client: client <command> CLIENT_ID");
    }
    return rest.get(0);
  }

  /** Command-line flags as RFC 7591 metadata. */
  static Map<String, Object> flags(List<String> args) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (int i = 0; i < args.size(); i++) {
      String flag = args.get(i);
      if (flag.equals("--public")) {
        m.put("token_endpoint_auth_method", "none");
        continue;
      }
      if (i + 1 >= args.size()) {
        throw new IllegalArgumentException(flag + " needs a value");
      }
      String value = args.get(++i);
      switch (flag) {
        case "--client-id" -> m.put("client_id", value);
        case "--name" -> m.put("client_name", value);
        case "--redirect-uri" -> append(m, "redirect_uris", value);
        case "--post-logout-redirect-uri" -> append(m, "post_logout_redirect_uris", value);
        case "--web-origin" -> append(m, "web_origins", value);
        case "--auth-method" -> m.put("token_endpoint_auth_method", value);
        case "--grant-types" -> m.put("grant_types", List.of(value.split(",")));
        case "--scope" -> m.put("scope", value);
        case "--id-token-alg" -> m.put("id_token_signed_response_alg", value);
        case "--backchannel-logout-uri" -> m.put("backchannel_logout_uri", value);
        default -> throw new IllegalArgumentException("unknown flag " + flag);
      }
    }
    return m;
  }

  @SuppressWarnings("unchecked")
  private static void append(Map<String, Object> m, String field, String value) {
    ((List<String>) m.computeIfAbsent(field, k -> new ArrayList<String>())).add(value);
  }

  private static void print(PrintStream out, Clients.Issued issued) {
    Map<String, Object> shown = new LinkedHashMap<>(issued.client().metadata());
    issued.secret().ifPresent(s -> shown.put("client_secret", s));
    out.println(json(shown));
  }

  private static String json(Map<String, Object> value) {
    try {
      return JSON.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }
}
