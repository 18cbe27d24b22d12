package dev.sesame.config;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * Every setting of Sesame, read from the environment and validated once at start-up. A wrong value stops the server
 * with a {@link ConfigException} naming the variable. Defaults are the secure choice for a single-machine setup.
 */
public record Config(
    int port,
    String bindHost,
    URI publicUrl,
    String rpId,
    String rpName,
    List<String> allowedOrigins,
    List<String> redirectAllowlist,
    Optional<String> databaseUrl,
    Optional<String> databaseUser,
    Optional<Secret> databasePassword,
    int databasePoolSize,
    Path dataDir,
    Optional<Smtp> smtp,
    MailDomainCheck mailDomains,
    Duration emailTtl,
    Duration accessTokenTtl,
    Duration refreshTokenTtl,
    Duration refreshReuseGrace,
    String tokenAudience,
    String clientId,
    Optional<Secret> masterKey,
    List<Cidr> trustedProxies,
    RateLimit emailStartLimit,
    RateLimit ipLimit,
    List<RateLimit> codeGuessLimits,
    Passkeys passkeys,
    Duration sessionIdleTtl,
    Duration sessionMaxTtl,
    Duration keyRotation,
    Duration keyPrepublish,
    String tokenAlg,
    Optional<Path> clientsFile,
    Optional<RateLimit> dynamicRegistration,
    Duration auditRetention,
    Metrics metrics,
    String logFormat,
    boolean webhookPrivateNetworks,
    boolean emailViaWebhook,
    Branding branding,
    RateLimit refreshLimit,
    RateLimit passkeySignInLimit) {

  /**
   * Where {@code /metrics} is served: on its own port (bound like the main one; keep it off the internet), and/or on
   * the main port to requests bearing {@code token}. Neither set: not served.
   */
  public record Metrics(Optional<Integer> port, Optional<Secret> token) {
    public boolean enabled() {
      return port.isPresent() || token.isPresent();
    }
  }

  public enum SmtpTls { STARTTLS, TLS, NONE }

  /** WebAuthn settings. {@code relatedOrigins} (WebAuthn L3 §5.11) may use this RP id besides the allowed origins. */
  public record Passkeys(boolean userVerificationRequired, boolean platformOnly, boolean verifyAttestation,
                         Duration ceremonyTtl, List<String> relatedOrigins, Optional<Path> aaguidFile,
                         NativeApps nativeApps) {}

  /**
   * Which addresses are accepted: {@code dns} checks that the domain receives mail (MX, else A/AAAA) through
   * {@code dnsServers} ({@code host[:port]}; empty: the system's resolvers) within {@code dnsTimeout};
   * {@code blocklist} names refused domains, one a line.
   */
  public record MailDomainCheck(boolean dns, List<String> dnsServers, Duration dnsTimeout,
                                Optional<Path> blocklist) {}

  public record Smtp(String host, int port, Optional<String> username, Optional<Secret> password, String from,
                     SmtpTls tls) {}

  /** The issuer of tokens: the public URL without a trailing slash. */
  public String issuer() {
    return withoutTrailingSlash(publicUrl.toString());
  }

  private static String withoutTrailingSlash(String url) {
    return url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
  }

  /** Development mode: no SMTP server, so mail goes to the console and, on localhost, to {@code /dev/mail}. */
  public boolean devMailbox() {
    return smtp.isEmpty() && !emailViaWebhook;
  }

  public boolean publicUrlIsLocalhost() {
    String host = publicUrl.getHost();
    return host.equals("localhost") || host.equals("127.0.0.1") || host.equals("[::1]") || host.equals("::1");
  }

  /** True when the HTTP port is reachable only from this machine ({@code SESAME_BIND_HOST} is a loopback address). */
  public boolean bindsLoopbackOnly() {
    String host = bindHost.startsWith("[") ? bindHost.substring(1, bindHost.length() - 1) : bindHost;
    return host.equals("localhost") || host.startsWith("127.") || host.equals("::1");
  }

  public boolean https() {
    return publicUrl.getScheme().equals("https");
  }

  public static Config load(Map<String, String> env) {
    Reader r = new Reader(env);
    int port = r.get("SESAME_PORT", "8080", Reader::port);
    String bindHost = r.get("SESAME_BIND_HOST", "0.0.0.0", s -> s);
    URI publicUrl = r.get("SESAME_PUBLIC_URL", "http://localhost:" + port, Reader::httpUrl);
    String rpId = r.get("SESAME_RP_ID", publicUrl.getHost(), s -> s.toLowerCase(Locale.ROOT));
    if (!publicUrl.getHost().equals(rpId) && !publicUrl.getHost().endsWith("." + rpId)) {
      throw new ConfigException("SESAME_RP_ID",
          "must be the public URL's host or a parent domain of it ('" + publicUrl.getHost() + "'), got '" + rpId + "'");
    }
    String rpName = r.get("SESAME_RP_NAME", "Sesame", s -> s);
    String ownOrigin = origin(publicUrl);
    // Sesame's own origin is always allowed (its hosted pages need it); the setting adds the apps' origins.
    List<String> allowedOrigins = r.get("SESAME_ALLOWED_ORIGINS", ownOrigin, s -> {
      java.util.LinkedHashSet<String> origins = new java.util.LinkedHashSet<>();
      origins.add(ownOrigin);
      origins.addAll(list(s, Reader::origin));
      return List.copyOf(origins);
    });
    List<String> redirectAllowlist =
        r.get("SESAME_REDIRECT_ALLOWLIST", String.join(",", allowedOrigins), s -> list(s, Reader::redirectPrefix));

    Optional<String> databaseUrl = r.optional("SESAME_DATABASE_URL", Reader::jdbcUrl);
    Optional<String> databaseUser = r.optional("SESAME_DATABASE_USER", s -> s);
    Optional<Secret> databasePassword = r.optional("SESAME_DATABASE_PASSWORD", Secret::new);
    int poolSize = r.get("SESAME_DATABASE_POOL_SIZE", "10", s -> r.intInRange(s, 1, 500));
    Path dataDir = r.get("SESAME_DATA_DIR", "./data", Path::of);

    Optional<Smtp> smtp = Optional.empty();
    Optional<String> smtpHost = r.optional("SESAME_SMTP_HOST", s -> s);
    if (smtpHost.isPresent()) {
      SmtpTls tls = r.get("SESAME_SMTP_TLS", "starttls", s -> switch (s.toLowerCase(Locale.ROOT)) {
        case "starttls" -> SmtpTls.STARTTLS;
        case "tls" -> SmtpTls.TLS;
        case "none" -> SmtpTls.NONE;
        default -> throw new IllegalArgumentException("expected starttls, tls or none, got '" + s + "'");
      });
      String defaultPort = switch (tls) {
        case STARTTLS -> "587";
        case TLS -> "465";
        case NONE -> "25";
      };
      int smtpPort = r.get("SESAME_SMTP_PORT", defaultPort, Reader::port);
      Optional<String> username = r.optional("SESAME_SMTP_USERNAME", s -> s);
      Optional<Secret> password = r.optional("SESAME_SMTP_PASSWORD", Secret::new);
      String from = r.get("SESAME_SMTP_FROM", defaultFrom(rpName, publicUrl.getHost()), s -> s);
      smtp = Optional.of(new Smtp(smtpHost.get(), smtpPort, username, password, from, tls));
    }

    boolean checkDomains = r.get("SESAME_EMAIL_DOMAIN_CHECK", "dns", s -> r.oneOf(s, "dns", "off")).equals("dns");
    List<String> dnsServers = r.get("SESAME_DNS_SERVERS", "", s -> list(s, Reader::hostPort));
    Duration dnsTimeout = r.get("SESAME_DNS_TIMEOUT", "2s",
        s -> r.duration(s, Duration.ofMillis(100), Duration.ofSeconds(10)));
    Optional<Path> blocklist = r.optional("SESAME_BLOCKED_EMAIL_DOMAINS_FILE", Reader::readableFile);
    MailDomainCheck mailDomains = new MailDomainCheck(checkDomains, dnsServers, dnsTimeout, blocklist);
    Duration emailTtl = r.get("SESAME_EMAIL_TTL", "10m", s -> r.duration(s, Duration.ofMinutes(1), Duration.ofDays(1)));
    Duration accessTtl =
        r.get("SESAME_ACCESS_TOKEN_TTL", "15m", s -> r.duration(s, Duration.ofSeconds(30), Duration.ofDays(1)));
    Duration refreshTtl =
        r.get("SESAME_REFRESH_TOKEN_TTL", "30d", s -> r.duration(s, Duration.ofMinutes(5), Duration.ofDays(400)));
    Duration reuseGrace = r.get("SESAME_REFRESH_REUSE_GRACE", "5s",
        s -> r.duration(s, Duration.ZERO, Duration.ofMinutes(1)));
    String audience = r.get("SESAME_TOKEN_AUDIENCE", withoutTrailingSlash(publicUrl.toString()), s -> s);
    String clientId = r.get("SESAME_CLIENT_ID", "default", s -> s);
    Optional<Secret> masterKey = r.optional("SESAME_MASTER_KEY", s -> {
      if (s.length() < 32) {
        throw new IllegalArgumentException("must be at least 32 characters (e.g. `openssl rand -base64 32`)");
      }
      return new Secret(s);
    });
    List<Cidr> trustedProxies = r.get("SESAME_TRUSTED_PROXIES", "", s -> list(s, Cidr::parse));
    RateLimit emailStart = r.get("SESAME_RATE_LIMIT_EMAIL", "5/15m", RateLimit::parse);
    RateLimit ip = r.get("SESAME_RATE_LIMIT_IP", "100/15m", RateLimit::parse);
    // Codes tried per address, whatever the number of flows or client addresses: bounds a guesser's odds.
    List<RateLimit> codeGuesses = r.get("SESAME_RATE_LIMIT_CODE", "10/1h,30/1d", RateLimit::parseList);

    boolean uvRequired = r.get("SESAME_USER_VERIFICATION", "required", s -> r.oneOf(s, "required", "preferred"))
        .equals("required");
    boolean platformOnly = r.get("SESAME_AUTHENTICATOR_ATTACHMENT", "platform", s -> r.oneOf(s, "platform", "any"))
        .equals("platform");
    boolean verifyAttestation = r.get("SESAME_ATTESTATION", "none", s -> r.oneOf(s, "none", "direct"))
        .equals("direct");
    Duration ceremonyTtl =
        r.get("SESAME_CEREMONY_TTL", "5m", s -> r.duration(s, Duration.ofSeconds(30), Duration.ofMinutes(30)));
    List<String> relatedOrigins = r.get("SESAME_RELATED_ORIGINS", "", s -> list(s, Reader::origin));
    Optional<Path> aaguidFile = r.optional("SESAME_AAGUID_FILE", Reader::readableFile);
    NativeApps nativeApps = new NativeApps(
        r.get("SESAME_APPLE_APP_IDS", "", s -> list(s, NativeApps::appleAppId)),
        r.get("SESAME_ANDROID_APPS", "", s -> list(s, NativeApps::androidApp)));
    Passkeys passkeys = new Passkeys(uvRequired, platformOnly, verifyAttestation, ceremonyTtl, relatedOrigins,
        aaguidFile, nativeApps);

    Duration idleTtl = r.get("SESAME_SESSION_IDLE_TTL", "30d",
        s -> r.duration(s, Duration.ofMinutes(5), Duration.ofDays(400)));
    Duration maxTtl = r.get("SESAME_SESSION_MAX_TTL", "90d",
        s -> r.duration(s, Duration.ofMinutes(5), Duration.ofDays(3650)));
    Duration keyRotation = r.get("SESAME_KEY_ROTATION", "30d",
        s -> r.duration(s, Duration.ofHours(1), Duration.ofDays(3650)));
    Duration keyPrepublish = r.get("SESAME_KEY_PREPUBLISH", "15m",
        s -> r.duration(s, Duration.ZERO, Duration.ofDays(7)));
    if (keyPrepublish.compareTo(keyRotation) >= 0) {
      throw new ConfigException("SESAME_KEY_PREPUBLISH", "must be shorter than SESAME_KEY_ROTATION");
    }
    String tokenAlg = r.get("SESAME_TOKEN_ALG", "ES256", s -> r.oneOf(s.toLowerCase(Locale.ROOT), "es256", "rs256")
        .toUpperCase(Locale.ROOT));

    Optional<Path> clientsFile = r.optional("SESAME_CLIENTS_FILE", Reader::readableFile);
    // RFC 7591 dynamic registration: off unless asked for; then public clients only, so many per client address.
    boolean registration = r.get("SESAME_DYNAMIC_REGISTRATION", "off", s -> r.oneOf(s, "on", "off")).equals("on");
    RateLimit registrationLimit = r.get("SESAME_RATE_LIMIT_REGISTRATION", "10/1h", RateLimit::parse);
    Duration auditRetention = r.get("SESAME_AUDIT_RETENTION", "400d",
        s -> r.duration(s, Duration.ofDays(1), Duration.ofDays(36500)));
    Optional<Integer> metricsPort = r.optional("SESAME_METRICS_PORT", Reader::port);
    if (metricsPort.isPresent() && metricsPort.get() == port) {
      throw new ConfigException("SESAME_METRICS_PORT", "must differ from SESAME_PORT (to serve /metrics on the main "
          + "port, set SESAME_METRICS_TOKEN instead)");
    }
    Optional<Secret> metricsToken = r.optional("SESAME_METRICS_TOKEN", s -> {
      if (s.length() < 16) {
        throw new IllegalArgumentException("must be at least 16 characters (e.g. `openssl rand -base64 24`)");
      }
      return new Secret(s);
    });

    return new Config(port, bindHost, publicUrl, rpId, rpName, allowedOrigins, redirectAllowlist, databaseUrl,
        databaseUser, databasePassword, poolSize, dataDir, smtp, mailDomains, emailTtl, accessTtl, refreshTtl, reuseGrace, audience, clientId,
        masterKey, trustedProxies, emailStart, ip, codeGuesses, passkeys, idleTtl, maxTtl, keyRotation, keyPrepublish, tokenAlg,
        clientsFile, registration ? Optional.of(registrationLimit) : Optional.empty(), auditRetention,
        new Metrics(metricsPort, metricsToken),
        // Logback reads it too (logback.xml picks the appender); checked here so a typo stops start-up clearly.
        r.get("SESAME_LOG_FORMAT", "text", s -> r.oneOf(s, "text", "json")),
        // SSRF: webhooks never go to private, loopback or link-local addresses unless this says so (development).
        r.get("SESAME_WEBHOOK_ALLOW_PRIVATE_NETWORKS", "false", s -> r.oneOf(s, "true", "false")).equals("true"),
        // Mail through the team's own provider: the rendered message goes out as an email.send webhook.
        r.get("SESAME_EMAIL_DELIVERY", "smtp", s -> r.oneOf(s, "smtp", "webhook")).equals("webhook"),
        branding(r, rpName),
        // Refreshes per session and passkey sign-ins per account: each writes rows (a refresh token, a session and
        // its events), so one account could otherwise grow the database without bound.
        r.get("SESAME_RATE_LIMIT_REFRESH", "30/10m", RateLimit::parse),
        r.get("SESAME_RATE_LIMIT_SIGN_IN", "20/10m", RateLimit::parse));
  }

  /** {@code "App name" <no-reply@host>}: the name quoted and encoded as RFC 5322 wants, whatever characters it has. */
  static String defaultFrom(String appName, String host) {
    try {
      return new jakarta.mail.internet.InternetAddress("no-reply@" + host, appName, "UTF-8").toString();
    } catch (java.io.UnsupportedEncodingException e) {
      throw new IllegalStateException(e);
    }
  }

  private static Branding branding(Reader r, String appName) {
    Optional<String> logoUrl = r.optional("SESAME_LOGO_URL", s -> s.startsWith("/") && !s.startsWith("//")
        ? s : Reader.httpUrlWithQuery(s).toString());
    Optional<Path> logoFile = r.optional("SESAME_LOGO_FILE", s -> {
      Path path = Reader.readableFile(s);
      String name = path.getFileName().toString().toLowerCase(Locale.ROOT);
      if (!name.matches(".*\\.(png|jpe?g|gif|webp|svg)")) {
        throw new IllegalArgumentException("must be a .png, .jpg, .gif, .webp or .svg file, got '" + s + "'");
      }
      try {
        if (java.nio.file.Files.size(path) > 256 * 1024) {
          throw new IllegalArgumentException("must be at most 256 KiB (it is sent with every sign-in page)");
        }
      } catch (java.io.IOException e) {
        throw new IllegalArgumentException("cannot read '" + s + "'");
      }
      return path;
    });
    if (logoUrl.isPresent() && logoFile.isPresent()) {
      throw new ConfigException("SESAME_LOGO_FILE", "set SESAME_LOGO_URL or SESAME_LOGO_FILE, not both");
    }
    Optional<String> accentSet = r.optional("SESAME_ACCENT_COLOR", Branding::color);
    String accent = accentSet.orElse(Branding.DEFAULT_ACCENT);
    // Unless told otherwise, the dark scheme takes the brand's colour lightened until it reads on the dark card
    // (4.5:1); the default blue has its own lighter shade.
    String accentDark = r.get("SESAME_ACCENT_COLOR_DARK",
        accentSet.map(Branding::forDarkScheme).orElse(Branding.DEFAULT_ACCENT_DARK), Branding::color);
    Optional<String> supportEmail = r.optional("SESAME_SUPPORT_EMAIL", s -> {
      if (!s.matches("[^@\\s<>\"]+@[^@\\s<>\"]+\\.[^@\\s<>\"]+")) {
        throw new IllegalArgumentException("expected an email address, got '" + s + "'");
      }
      return s;
    });
    Optional<URI> supportUrl = r.optional("SESAME_SUPPORT_URL", Reader::httpUrlWithQuery);
    Optional<URI> termsUrl = r.optional("SESAME_TERMS_URL", Reader::httpUrlWithQuery);
    Optional<URI> privacyUrl = r.optional("SESAME_PRIVACY_URL", Reader::httpUrlWithQuery);
    List<String> shipped = dev.sesame.i18n.Languages.SHIPPED;
    List<String> languages = r.get("SESAME_LANGUAGES", String.join(",", shipped), s -> {
      List<String> tags = list(s, tag -> shipped.stream().filter(t -> t.equalsIgnoreCase(tag)).findFirst()
          .orElseThrow(() -> new IllegalArgumentException("'" + tag + "' is not one of " + shipped)));
      if (tags.isEmpty()) {
        throw new IllegalArgumentException("name at least one language");
      }
      return List.copyOf(new java.util.LinkedHashSet<>(tags));
    });
    String defaultLanguage = r.get("SESAME_DEFAULT_LANGUAGE", languages.contains("en") ? "en" : languages.get(0),
        s -> languages.stream().filter(t -> t.equalsIgnoreCase(s)).findFirst().orElseThrow(
            () -> new IllegalArgumentException("must be one of SESAME_LANGUAGES " + languages + ", got '" + s + "'")));
    Optional<Path> templatesDir = r.optional("SESAME_TEMPLATES_DIR", s -> {
      Path path = Path.of(s);
      if (!java.nio.file.Files.isDirectory(path) || !java.nio.file.Files.isReadable(path)) {
        throw new IllegalArgumentException("cannot read the directory '" + s + "'");
      }
      return path;
    });
    return new Branding(appName, logoUrl, logoFile, accent, accentDark, supportEmail, supportUrl, termsUrl,
        privacyUrl, languages, defaultLanguage, templatesDir);
  }

  /** The non-secret settings, for the one start-up log line. Secrets show only whether they are set. */
  public Map<String, Object> describe() {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("port", port);
    out.put("publicUrl", publicUrl);
    out.put("rpId", rpId);
    out.put("rpName", rpName);
    out.put("allowedOrigins", allowedOrigins);
    out.put("redirectAllowlist", redirectAllowlist);
    out.put("database", databaseUrl.map(Config::withoutQuery).orElse("embedded PostgreSQL in " + dataDir));
    out.put("databasePoolSize", databasePoolSize);
    out.put("smtp", emailViaWebhook ? "not used: email.send webhooks" : smtp.map(s -> s.host() + ":" + s.port()
        + " (" + s.tls().name().toLowerCase(Locale.ROOT) + ")").orElse("none: development mailbox"));
    out.put("emailDomainCheck", mailDomains.dns() ? "dns" + (mailDomains.dnsServers().isEmpty() ? ""
        : " via " + mailDomains.dnsServers()) + " within " + Durations.format(mailDomains.dnsTimeout()) : "off");
    out.put("blockedEmailDomainsFile", mailDomains.blocklist().map(Path::toString).orElse("none"));
    out.put("emailTtl", Durations.format(emailTtl));
    out.put("accessTokenTtl", Durations.format(accessTokenTtl));
    out.put("refreshTokenTtl", Durations.format(refreshTokenTtl));
    out.put("refreshReuseGrace", Durations.format(refreshReuseGrace));
    out.put("tokenAudience", tokenAudience);
    out.put("clientId", clientId);
    out.put("masterKey", masterKey.isPresent() ? "set" : "not set");
    out.put("trustedProxies", trustedProxies);
    out.put("rateLimitEmail", emailStartLimit);
    out.put("rateLimitIp", ipLimit);
    out.put("rateLimitCode", codeGuessLimits);
    out.put("rateLimitRefresh", refreshLimit);
    out.put("rateLimitSignIn", passkeySignInLimit);
    out.put("userVerification", passkeys.userVerificationRequired() ? "required" : "preferred");
    out.put("authenticatorAttachment", passkeys.platformOnly() ? "platform" : "any");
    out.put("attestation", passkeys.verifyAttestation() ? "direct" : "none");
    out.put("ceremonyTtl", Durations.format(passkeys.ceremonyTtl()));
    out.put("relatedOrigins", passkeys.relatedOrigins());
    out.put("aaguidFile", passkeys.aaguidFile().map(Path::toString).orElse("none"));
    out.put("appleAppIds", passkeys.nativeApps().appleAppIds());
    out.put("androidApps", passkeys.nativeApps().androidApps().stream()
        .map(a -> a.packageName() + "=" + a.fingerprint()).toList());
    out.put("sessionIdleTtl", Durations.format(sessionIdleTtl));
    out.put("sessionMaxTtl", Durations.format(sessionMaxTtl));
    out.put("keyRotation", Durations.format(keyRotation));
    out.put("keyPrepublish", Durations.format(keyPrepublish));
    out.put("tokenAlg", tokenAlg);
    out.put("clientsFile", clientsFile.map(Path::toString).orElse("none"));
    out.put("auditRetention", Durations.format(auditRetention));
    out.put("dynamicRegistration", dynamicRegistration.map(l -> "on, " + l + " per client address").orElse("off"));
    out.put("logFormat", logFormat);
    out.put("logo", branding.logoFile().map(f -> "file " + f).or(branding::logoUrl).orElse("none"));
    out.put("accentColor", branding.accent());
    out.put("accentColorDark", branding.accentDark());
    out.put("supportEmail", branding.supportEmail().orElse("none"));
    out.put("supportUrl", branding.supportUrl().map(URI::toString).orElse("none"));
    out.put("termsUrl", branding.termsUrl().map(URI::toString).orElse("none"));
    out.put("privacyUrl", branding.privacyUrl().map(URI::toString).orElse("none"));
    out.put("languages", branding.languages());
    out.put("defaultLanguage", branding.defaultLanguage());
    out.put("templatesDir", branding.templatesDir().map(Path::toString).orElse("built-in templates"));
    out.put("webhookPrivateNetworks", webhookPrivateNetworks ? "allowed" : "refused");
    out.put("metrics", metrics.port().map(p -> "port " + p).orElse("")
        + (metrics.port().isPresent() && metrics.token().isPresent() ? " and " : "")
        + (metrics.token().isPresent() ? "main port with a bearer token" : "")
        + (metrics.enabled() ? "" : "off"));
    return out;
  }

  /** A JDBC URL fit for logs and error messages: its query string may carry a password. */
  public static String withoutQuery(String jdbcUrl) {
    int q = jdbcUrl.indexOf('?');
    return q < 0 ? jdbcUrl : jdbcUrl.substring(0, q); // a query string may carry a password
  }

  /** scheme://host[:port] of a URL, lower-cased, default ports left out: how browsers write an Origin. */
  public static String originOf(URI uri) {
    return origin(uri);
  }

  static String origin(URI uri) {
    String scheme = uri.getScheme().toLowerCase(Locale.ROOT);
    int port = uri.getPort();
    boolean defaultPort = port == -1 || scheme.equals("http") && port == 80 || scheme.equals("https") && port == 443;
    return scheme + "://" + uri.getHost().toLowerCase(Locale.ROOT) + (defaultPort ? "" : ":" + port);
  }

  private static <T> List<T> list(String csv, Function<String, T> parse) {
    List<T> out = new ArrayList<>();
    for (String part : csv.split(",")) {
      if (!part.isBlank()) {
        out.add(parse.apply(part.strip()));
      }
    }
    return List.copyOf(out);
  }

  /** Reads one variable at a time and turns any parse failure into a message that names it. */
  private static final class Reader {
    private final Map<String, String> env;

    Reader(Map<String, String> env) {
      this.env = env;
    }

    <T> T get(String name, String fallback, Function<String, T> parse) {
      String raw = env.get(name);
      String value = raw == null || raw.isBlank() ? fallback : raw.strip();
      try {
        return parse.apply(value);
      } catch (ConfigException e) {
        throw e;
      } catch (RuntimeException e) {
        throw new ConfigException(name, e.getMessage());
      }
    }

    <T> Optional<T> optional(String name, Function<String, T> parse) {
      String raw = env.get(name);
      if (raw == null || raw.isBlank()) {
        return Optional.empty();
      }
      return Optional.of(get(name, raw, parse));
    }

    String oneOf(String s, String... allowed) {
      String value = s.toLowerCase(Locale.ROOT);
      for (String a : allowed) {
        if (a.equals(value)) {
          return a;
        }
      }
      throw new IllegalArgumentException("expected " + String.join(" or ", allowed) + ", got '" + s + "'");
    }

    int intInRange(String s, int min, int max) {
      int n;
      try {
        n = Integer.parseInt(s);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("expected a whole number, got '" + s + "'");
      }
      if (n < min || n > max) {
        throw new IllegalArgumentException("must be between " + min + " and " + max + ", got " + n);
      }
      return n;
    }

    Duration duration(String s, Duration min, Duration max) {
      Duration d = Durations.parse(s);
      if (d.compareTo(min) < 0 || d.compareTo(max) > 0) {
        throw new IllegalArgumentException(
            "must be between " + Durations.format(min) + " and " + Durations.format(max) + ", got '" + s + "'");
      }
      return d;
    }

    static int port(String s) {
      try {
        int p = Integer.parseInt(s);
        if (p >= 1 && p <= 65535) {
          return p;
        }
      } catch (NumberFormatException ignored) {
        // fall through to the message below
      }
      throw new IllegalArgumentException("expected a port number from 1 to 65535, got '" + s + "'");
    }

    static URI httpUrl(String s) {
      try {
        URI uri = new URI(s);
        if (uri.getScheme() == null || !List.of("http", "https").contains(uri.getScheme().toLowerCase(Locale.ROOT))
            || uri.getHost() == null) {
          throw new IllegalArgumentException("expected an absolute http(s) URL, got '" + s + "'");
        }
        if (uri.getQuery() != null || uri.getFragment() != null || uri.getUserInfo() != null) {
          throw new IllegalArgumentException("must not have a query, fragment or user info, got '" + s + "'");
        }
        return uri;
      } catch (URISyntaxException e) {
        throw new IllegalArgumentException("expected an absolute http(s) URL, got '" + s + "'");
      }
    }

    /** An absolute http(s) URL, query allowed (a support or legal page may need one). */
    static URI httpUrlWithQuery(String s) {
      try {
        URI uri = new URI(s);
        if (uri.getScheme() == null || !List.of("http", "https").contains(uri.getScheme().toLowerCase(Locale.ROOT))
            || uri.getHost() == null || uri.getUserInfo() != null) {
          throw new IllegalArgumentException("expected an absolute http(s) URL, got '" + s + "'");
        }
        return uri;
      } catch (URISyntaxException e) {
        throw new IllegalArgumentException("expected an absolute http(s) URL, got '" + s + "'");
      }
    }

    static String origin(String s) {
      URI uri = httpUrl(s);
      String path = uri.getPath();
      if (path != null && !path.isEmpty() && !path.equals("/")) {
        throw new IllegalArgumentException("an origin is scheme://host[:port] without a path, got '" + s + "'");
      }
      return Config.origin(uri);
    }

    static Path readableFile(String s) {
      Path path = Path.of(s);
      if (!java.nio.file.Files.isReadable(path)) {
        throw new IllegalArgumentException("cannot read '" + s + "'");
      }
      return path;
    }

    /** {@code host} or {@code host:port} (IPv6 in brackets), as a DNS server is named. */
    static String hostPort(String s) {
      if (!s.matches("(\\[[0-9a-fA-F:.]+\\]|[A-Za-z0-9.-]+)(:\\d{1,5})?")) {
        throw new IllegalArgumentException("expected host or host:port, got '" + s + "'");
      }
      return s;
    }

    static String redirectPrefix(String s) {
      return httpUrl(s).toString();
    }

    static String jdbcUrl(String s) {
      if (s.startsWith("jdbc:postgresql:")) {
        return s;
      }
      if (s.startsWith("postgres://") || s.startsWith("postgresql://")) {
        throw new IllegalArgumentException(
            "use the JDBC form jdbc:postgresql://host:5432/db with SESAME_DATABASE_USER and _PASSWORD");
      }
      throw new IllegalArgumentException("expected jdbc:postgresql://host:5432/database, got '" + s + "'");
    }
  }

  /** Used by {@link #describe()} for readable lists. */
  @Override
  public String toString() {
    return describe().toString();
  }
}
