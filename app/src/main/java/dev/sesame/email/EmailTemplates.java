package dev.sesame.email;

import com.samskivert.mustache.Escapers;
import com.samskivert.mustache.Mustache;
import com.samskivert.mustache.MustacheException;
import com.samskivert.mustache.Template;
import dev.sesame.branding.Brand;
import dev.sesame.config.ConfigException;
import dev.sesame.i18n.Languages;
import java.io.IOException;
import java.io.InputStream;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Sesame's emails, rendered from Mustache templates (logic-less; HTML escaped in the HTML part, nothing escaped in
 * the subject and the plain-text part, which every message has). Each message has three files — {@code <kind>.subject},
 * {@code <kind>.txt}, {@code <kind>.html} — sharing {@code header.html}, {@code footer.html} and {@code footer.txt}.
 * Their words come from the language's messages as {@code {{t.…}}}; an operator may replace any file from
 * {@code SESAME_TEMPLATES_DIR}, for every language ({@code dir/sign-in.html}) or one ({@code dir/de/sign-in.html}),
 * and the built-in file is used for the rest. Every file of every offered language is rendered once at start-up:
 * an unknown file, a missing variable, or a sign-in message that would not carry its code and link stops the server
 * with the file's name.
 */
public final class EmailTemplates {
  /** The messages, and the messages' keys' prefix in the language files. */
  public enum Kind {
    SIGN_IN("sign-in", "email.signIn."),
    CONFIRM_ADDRESS("confirm-address", "email.confirmAddress."),
    ADDRESS_CHANGED("address-changed", "email.addressChanged.");

    public final String file;
    final String keys;

    Kind(String file, String keys) {
      this.file = file;
      this.keys = keys;
    }

    public static Optional<Kind> named(String file) {
      return Stream.of(values()).filter(k -> k.file.equals(file)).findFirst();
    }
  }

  public enum Part { SUBJECT("subject"), TEXT("txt"), HTML("html");
    final String extension;

    Part(String extension) {
      this.extension = extension;
    }
  }

  static final List<String> PARTIALS = List.of("header.html", "footer.html", "footer.txt");

  /** A rendered message. */
  public record Rendered(String subject, String text, String html) {}

  private record Compiled(Template subject, Template text, Template html) {}

  private final Brand brand;
  private final Languages languages;
  private final Optional<Path> overrides;
  private final Map<String, Map<Kind, Compiled>> compiled = new HashMap<>();

  /**
   * Compiles and checks every template of every offered language.
   *
   * @throws ConfigException naming {@code SESAME_TEMPLATES_DIR} and the file at fault
   */
  public EmailTemplates(Brand brand, Languages languages, Optional<Path> overrides) {
    this.brand = brand;
    this.languages = languages;
    this.overrides = overrides;
    overrides.ifPresent(this::checkFileNames);
    for (String language : languages.offered()) {
      Map<Kind, Compiled> kinds = new LinkedHashMap<>();
      for (Kind kind : Kind.values()) {
        kinds.put(kind, new Compiled(compile(language, kind.file + ".subject", false),
            compile(language, kind.file + ".txt", false), compile(language, kind.file + ".html", true)));
      }
      compiled.put(language, kinds);
      check(language);
    }
  }

  public Mailer.OutgoingEmail signIn(String language, String recipient, String link, String code, Duration ttl) {
    return signIn(language, recipient, link, code, ttl, null);
  }

  /** The sign-in email; its heading names {@code appName}, the app the sign-in is for, when there is one. */
  public Mailer.OutgoingEmail signIn(String language, String recipient, String link, String code, Duration ttl,
                                     String appName) {
    Map<String, Object> values = new HashMap<>(Map.of("email", recipient, "link", link, "code", code,
        "minutes", ttl.toMinutes()));
    if (appName != null) {
      values.put("appName", appName);
    }
    Rendered r = render(Kind.SIGN_IN, language, values);
    return new Mailer.OutgoingEmail(recipient, r.subject(), r.text(), r.html());
  }

  /** The link that confirms a new address; the change waits for it. */
  public Mailer.OutgoingEmail confirmNewAddress(String language, String recipient, String link, Instant expiresAt) {
    Rendered r = render(Kind.CONFIRM_ADDRESS, language, Map.of("email", recipient, "link", link,
        "expiresAt", expiresAt));
    return new Mailer.OutgoingEmail(recipient, r.subject(), r.text(), r.html());
  }

  /** The notice to the old address once the change is made. */
  public Mailer.OutgoingEmail addressChanged(String language, String recipient, String newEmail) {
    Rendered r = render(Kind.ADDRESS_CHANGED, language, Map.of("email", recipient, "new_email", newEmail));
    return new Mailer.OutgoingEmail(recipient, r.subject(), r.text(), r.html());
  }

  /**
   * One message in one language (an offered one, else the default). {@code values} are the message's own variables
   * ({@code link}, {@code code}, {@code minutes}, {@code expiresAt}, {@code email}, {@code new_email}).
   */
  public Rendered render(Kind kind, String language, Map<String, Object> values) {
    Languages.Catalog t = languages.offeredOrDefault(language);
    Compiled c = compiled.get(t.tag()).get(kind);
    Map<String, Object> context = context(kind, t, values);
    String subject = c.subject().execute(context).strip();
    return new Rendered(subject, c.text().execute(context), c.html().execute(context));
  }

  /** Sample values for previews and the start-up check: what a real message of the kind carries. */
  public static Map<String, Object> sample(Kind kind, String issuer) {
    Instant expires = Instant.parse("2026-06-01T12:30:00Z");
    return switch (kind) {
      case SIGN_IN -> Map.of("email", "person@example.com", "link", issuer + "/email/confirm?token=SAMPLE-TOKEN",
          "code", "428913", "minutes", 10L);
      case CONFIRM_ADDRESS -> Map.of("email", "new.address@example.com",
          "link", issuer + "/email/change?token=SAMPLE-TOKEN", "expiresAt", expires);
      case ADDRESS_CHANGED -> Map.of("email", "person@example.com", "new_email", "new.address@example.com");
    };
  }

  private Map<String, Object> context(Kind kind, Languages.Catalog t, Map<String, Object> values) {
    Object[] args = {"app", brand.appName(), "code", values.get("code"), "minutes", values.get("minutes"),
        "expiresAt", values.get("expiresAt"), "newEmail", values.get("new_email"), "email", values.get("email")};
    Map<String, Object> text = new HashMap<>();
    for (String key : t.patterns().keySet()) {
      if (key.startsWith(kind.keys)) {
        text.put(key.substring(kind.keys.length()), t.format(key, args));
      }
    }
    if (values.get("appName") instanceof String appName && kind == Kind.SIGN_IN) {
      // "Sign in to Notes": the app the sign-in is for, not only this server's name (a sign-in started by an app
      // that registered itself says so, and where it sends the person).
      text.put("heading", t.format(kind.keys + "heading", "app", appName));
    }
    text.put("sentBy", t.format("email.footer.sentBy", args));
    text.put("helpLink", t.format("common.help"));
    text.put("terms", t.format("common.terms"));
    text.put("privacy", t.format("common.privacy"));
    Map<String, Object> context = new HashMap<>(brand.forTemplates());
    context.put("lang", t.tag());
    context.put("dir", t.dir());
    context.put("rtl", t.dir().equals("rtl"));
    for (String name : List.of("email", "link", "code", "minutes", "new_email")) {
      context.put(name, values.getOrDefault(name, ""));
    }
    context.put("t", text);
    return context;
  }

  private Template compile(String language, String file, boolean html) {
    Source source = source(language, file);
    Mustache.Compiler compiler = Mustache.compiler()
        .withEscaper(html ? Escapers.HTML : Escapers.NONE)
        .strictSections(true)
        .emptyStringIsFalse(true)
        .zeroIsFalse(false)
        .withLoader(name -> {
          if (!PARTIALS.contains(name)) {
            throw new IllegalArgumentException("{{> " + name + "}}: there is no such partial (" + PARTIALS + ")");
          }
          return new StringReader(source(language, name).text());
        });
    try {
      return compiler.compile(source.text());
    } catch (RuntimeException e) {
      throw fault(source, e);
    }
  }

  /** Renders every message with sample values; a failure or a message without its code or link names its file. */
  private void check(String language) {
    for (Kind kind : Kind.values()) {
      Map<String, Object> sample = sample(kind, "https://sesame.example");
      Compiled c = compiled.get(language).get(kind);
      Map<String, Object> context = context(kind, languages.catalog(language), sample);
      String subject = run(language, kind.file + ".subject", c.subject(), context);
      String text = run(language, kind.file + ".txt", c.text(), context);
      String html = run(language, kind.file + ".html", c.html(), context);
      if (subject.isBlank() || subject.strip().contains("\n")) {
        throw fault(source(language, kind.file + ".subject"), "a subject is one line of text");
      }
      List<String> required = switch (kind) {
        case SIGN_IN -> List.of("code", "link");
        case CONFIRM_ADDRESS -> List.of("link");
        case ADDRESS_CHANGED -> List.of();
      };
      for (String name : required) {
        String value = (String) sample.get(name);
        if (!text.contains(value)) {
          throw fault(source(language, kind.file + ".txt"), "the message must show the " + name + " ({{" + name
              + "}}): without it nobody can use it");
        }
        if (!html.contains(value) && !html.contains(Escapers.HTML.escape(value))) {
          throw fault(source(language, kind.file + ".html"), "the message must show the " + name + " ({{" + name
              + "}}): without it nobody can use it");
        }
      }
    }
  }

  private String run(String language, String file, Template template, Map<String, Object> context) {
    try {
      return template.execute(context);
    } catch (RuntimeException e) {
      throw fault(source(language, file), e);
    }
  }

  private static ConfigException fault(Source source, RuntimeException e) {
    String why = e instanceof MustacheException.Context missing
        ? "no variable '" + missing.key + "' (line " + missing.lineNo + ")"
        : e.getMessage();
    return fault(source, why);
  }

  private static ConfigException fault(Source source, String why) {
    return new ConfigException("SESAME_TEMPLATES_DIR", source.name() + ": " + why);
  }

  /** A template's text and where it came from (an operator's file, or the built-in one). */
  private record Source(String name, String text) {}

  private Source source(String language, String file) {
    if (overrides.isPresent()) {
      for (Path path : List.of(overrides.get().resolve(language).resolve(file), overrides.get().resolve(file))) {
        if (Files.isRegularFile(path)) {
          try {
            return new Source(path.toString(), Files.readString(path, StandardCharsets.UTF_8));
          } catch (IOException e) {
            throw new ConfigException("SESAME_TEMPLATES_DIR", path + ": cannot be read (" + e.getMessage() + ")");
          }
        }
      }
    }
    String resource = "/email-templates/" + file;
    try (InputStream in = EmailTemplates.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException(resource + " is missing from the jar");
      }
      return new Source("built-in " + file, new String(in.readAllBytes(), StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Every file in the directory is a known template, in a known language's directory or at the top. */
  private void checkFileNames(Path dir) {
    List<String> known = Stream.concat(Stream.of(Kind.values())
        .flatMap(k -> Stream.of(Part.values()).map(p -> k.file + "." + p.extension)), PARTIALS.stream()).toList();
    try (Stream<Path> entries = Files.list(dir)) {
      for (Path entry : entries.toList()) {
        String name = entry.getFileName().toString();
        if (name.startsWith(".")) {
          continue;
        }
        if (Files.isDirectory(entry)) {
          if (!Languages.SHIPPED.contains(name)) {
            throw new ConfigException("SESAME_TEMPLATES_DIR", entry + ": not a language Sesame ships "
                + Languages.SHIPPED);
          }
          try (Stream<Path> files = Files.list(entry)) {
            for (Path file : files.toList()) {
              if (!file.getFileName().toString().startsWith(".") && !known.contains(file.getFileName().toString())) {
                throw new ConfigException("SESAME_TEMPLATES_DIR", file + ": not a template Sesame knows " + known);
              }
            }
          }
        } else if (!known.contains(name)) {
          throw new ConfigException("SESAME_TEMPLATES_DIR", entry + ": not a template Sesame knows " + known);
        }
      }
    } catch (IOException e) {
      throw new ConfigException("SESAME_TEMPLATES_DIR", dir + ": cannot be read (" + e.getMessage() + ")");
    }
  }
}
