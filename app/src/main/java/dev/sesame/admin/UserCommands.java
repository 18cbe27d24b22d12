package dev.sesame.admin;

import dev.sesame.audit.AuditLog;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * {@code java -jar sesame.jar users export [FILE]} and {@code users import FILE}: Sesame's JSON format, or Passage's
 * CSV export when FILE ends in {@code .csv}.
 */
public final class UserCommands {
  private UserCommands() {}

  public static int run(UserTransfer transfer, List<String> args, PrintStream out, PrintStream err) {
    try {
      switch (args.get(0)) {
        case "export" -> {
          if (args.size() > 2) {
            break;
          }
          if (args.size() == 2) {
            try (OutputStream file = Files.newOutputStream(Path.of(args.get(1)))) {
              transfer.export(file);
            }
            err.println("Exported to " + args.get(1) + ". It holds people's addresses: keep it like a secret.");
          } else {
            transfer.export(out);
            out.println();
          }
          return 0;
        }
        case "import" -> {
          if (args.size() != 2) {
            break;
          }
          UserTransfer.Result result;
          // A .csv file is Passage's export; anything else Sesame's JSON format.
          UserTransfer.Format format = args.get(1).toLowerCase(java.util.Locale.ROOT).endsWith(".csv")
              ? UserTransfer.Format.PASSAGE_CSV : UserTransfer.Format.SESAME_JSON;
          Path file = Path.of(args.get(1));
          if (!Files.isRegularFile(file)) {
            throw new IOException("no such file: " + file);
          }
          try {
            result = AuditLog.actingAs("cli", () -> {
              try {
                return transfer.importFrom(file, format, true); // read where it is, in two streamed passes
              } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
              }
            });
          } catch (java.io.UncheckedIOException e) {
            throw e.getCause();
          }
          out.println("Imported " + args.get(1) + ": " + result.users() + " people in the file, "
              + result.usersAdded() + " accounts added, " + result.passkeysAdded() + " passkeys added.");
          return 0;
        }
        default -> {
          // usage below
        }
      }
    } catch (UserTransfer.Invalid e) {
      err.println("Nothing was imported:");
      e.errors().forEach(line -> err.println("  " + line));
      return 1;
    } catch (IOException e) {
      err.println("sesame: " + e.getMessage());
      return 1;
    }
    err.println("usage: users export [FILE] | users import FILE");
    return 2;
  }
}
