package dev.sesame.email;

import dev.sesame.branding.Brand;
import dev.sesame.config.Config;
import dev.sesame.i18n.Languages;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * {@code email preview}: renders one email with sample values, exactly as the server would (the branding settings,
 * {@code SESAME_TEMPLATES_DIR}), without a database — a template can be tried before the server restarts with it.
 */
public final class EmailCommands {
  public static final String USAGE = """
        email preview TEMPLATE [LANGUAGE] [--part html|text|subject] [--out FILE]
                                     render an email (sign-in, confirm-address, address-changed) with sample
                                     values through the branding settings and SESAME_TEMPLATES_DIR; the HTML part
                                     unless --part says otherwise, to FILE or standard output
      """;

  private EmailCommands() {}

  public static int run(List<String> args, Config config, PrintStream out, PrintStream err) {
    List<String> positional = new ArrayList<>();
    String part = "html";
    Optional<Path> file = Optional.empty();
    for (int i = 0; i < args.size(); i++) {
      String arg = args.get(i);
      if ((arg.equals("--part") || arg.equals("--out")) && i + 1 < args.size()) {
        if (arg.equals("--part")) {
          part = args.get(++i);
        } else {
          file = Optional.of(Path.of(args.get(++i)));
        }
      } else {
        positional.add(arg);
      }
    }
    Languages languages = new Languages(config.branding().languages(), config.branding().defaultLanguage());
    if (positional.size() < 2 || positional.size() > 3 || !positional.get(0).equals("preview")
        || !List.of("html", "text", "subject").contains(part)) {
      err.print(USAGE);
      return 2;
    }
    Optional<EmailTemplates.Kind> kind = EmailTemplates.Kind.named(positional.get(1));
    if (kind.isEmpty()) {
      err.println("sesame: no template '" + positional.get(1) + "' (sign-in, confirm-address, address-changed)");
      return 2;
    }
    String language = positional.size() == 3 ? positional.get(2) : languages.defaultLanguage();
    if (!languages.offered().contains(language)) {
      err.println("sesame: '" + language + "' is not an offered language " + languages.offered());
      return 2;
    }
    EmailTemplates templates = new EmailTemplates(new Brand(config.branding(), config.issuer()), languages,
        config.branding().templatesDir());
    EmailTemplates.Rendered rendered = templates.render(kind.get(), language,
        EmailTemplates.sample(kind.get(), config.issuer()));
    String text = switch (part) {
      case "text" -> rendered.text();
      case "subject" -> rendered.subject() + "\n";
      default -> rendered.html();
    };
    if (file.isPresent()) {
      try {
        Files.writeString(file.get(), text, StandardCharsets.UTF_8);
      } catch (IOException e) {
        err.println("sesame: cannot write " + file.get() + ": " + e.getMessage());
        return 1;
      }
      err.println("Wrote the " + part + " of " + kind.get().file + " (" + language + ") to " + file.get() + ".");
    } else {
      out.print(text);
    }
    return 0;
  }
}
