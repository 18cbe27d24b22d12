package dev.sesame.email;

import dev.sesame.common.ApiException;
import dev.sesame.config.Config;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.Hashtable;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import javax.naming.Context;
import javax.naming.NameNotFoundException;
import javax.naming.NamingEnumeration;
import javax.naming.NamingException;
import javax.naming.directory.Attribute;
import javax.naming.directory.Attributes;
import javax.naming.directory.DirContext;
import javax.naming.directory.InitialDirContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether an address's domain can receive mail, before Sesame sends to it or creates an account for it: typos like
 * {@code gmial.con} and domains that take no mail are refused with a helpful 400 instead of becoming bounces and
 * dead accounts. RFC 5321 §5.1: mail goes to the domain's MX hosts, or, with no MX record, to its address (A/AAAA)
 * records; RFC 7505: a "null MX" ({@code 0 .}) says the domain accepts no mail. Optionally, domains from a
 * blocklist file (one a line, e.g. a public list of disposable-mail domains) are refused, with their subdomains.
 *
 * <p>DNS is asked through the JDK's DNS provider with a short timeout, and answers are cached (an hour when mail is
 * possible, ten minutes when not). When DNS cannot answer (timeout, server failure), the address is accepted:
 * an outage of the resolver must not stop people from signing in.
 */
public final class MailDomains {
  private static final Logger log = LoggerFactory.getLogger(MailDomains.class);
  private static final Duration GOOD_FOR = Duration.ofHours(1);
  private static final Duration BAD_FOR = Duration.ofMinutes(10);
  private static final int CACHE_SIZE = 10_000;

  private record Verdict(boolean receivesMail, long until) {}

  private final Config.MailDomainCheck settings;
  private final Set<String> blocked;
  private final Map<String, Verdict> cache = new LinkedHashMap<>(256, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, Verdict> eldest) {
      return size() > CACHE_SIZE;
    }
  };

  public MailDomains(Config.MailDomainCheck settings) {
    this.settings = settings;
    this.blocked = settings.blocklist().map(MailDomains::readBlocklist).orElse(Set.of());
    if (!blocked.isEmpty()) {
      log.info("Refusing addresses at {} blocked domains from {}", blocked.size(), settings.blocklist().get());
    }
  }

  /** Reads a blocklist: one domain a line; blank lines and {@code #} comments are skipped. */
  static Set<String> readBlocklist(Path file) {
    try {
      Set<String> out = new HashSet<>();
      for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
        String domain = line.strip().toLowerCase(Locale.ROOT);
        if (!domain.isEmpty() && !domain.startsWith("#")) {
          out.add(domain.endsWith(".") ? domain.substring(0, domain.length() - 1) : domain);
        }
      }
      return Set.copyOf(out);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
    }
  }

  /** Refuses (400 {@code invalid_email}) an address whose domain is blocked or cannot receive mail. */
  public void check(String normalizedEmail) {
    String domain = normalizedEmail.substring(normalizedEmail.lastIndexOf('@') + 1);
    for (String d = domain; d.contains("."); d = d.substring(d.indexOf('.') + 1)) {
      if (blocked.contains(d)) {
        throw ApiException.badRequest("invalid_email",
            "Addresses at " + domain + " can't be used here. Use another email address.");
      }
    }
    if (settings.dns() && !receivesMail(domain)) {
      throw ApiException.badRequest("invalid_email", "The domain " + domain + " does not receive email. "
          + "Check the address for a typo.");
    }
  }

  private boolean receivesMail(String domain) {
    long now = System.nanoTime();
    synchronized (cache) {
      Verdict cached = cache.get(domain);
      if (cached != null && cached.until() - now > 0) {
        return cached.receivesMail();
      }
    }
    Optional<Boolean> answer = lookUp(domain);
    if (answer.isEmpty()) {
      return true; // DNS did not answer: accept rather than lock people out (the outbox retries delivery)
    }
    boolean receives = answer.get();
    synchronized (cache) {
      cache.put(domain, new Verdict(receives, now + (receives ? GOOD_FOR : BAD_FOR).toNanos()));
    }
    return receives;
  }

  /** True: mail can be delivered; false: DNS says it cannot; empty: DNS did not answer. */
  Optional<Boolean> lookUp(String domain) {
    DirContext dns = null;
    try {
      dns = new InitialDirContext(environment());
      String name = domain + "."; // absolute: no search domains appended
      Attributes mx = dns.getAttributes(name, new String[] {"MX"});
      Attribute records = mx.get("MX");
      if (records != null && records.size() > 0) {
        return Optional.of(!nullMx(records));
      }
      Attributes addresses = dns.getAttributes(name, new String[] {"A", "AAAA"});
      return Optional.of(addresses.get("A") != null || addresses.get("AAAA") != null);
    } catch (NameNotFoundException e) {
      return Optional.of(false); // NXDOMAIN: the domain does not exist
    } catch (NamingException e) {
      log.warn("DNS did not answer for {} ({}); accepting the address", domain, e.getClass().getSimpleName());
      return Optional.empty();
    } finally {
      if (dns != null) {
        try {
          dns.close();
        } catch (NamingException ignored) {
          // nothing held
        }
      }
    }
  }

  /** RFC 7505: a single MX record with preference 0 and the root as host means "no mail here". */
  private static boolean nullMx(Attribute records) throws NamingException {
    if (records.size() != 1) {
      return false;
    }
    NamingEnumeration<?> values = records.getAll();
    String[] parts = values.next().toString().strip().split("\\s+");
    return parts.length == 2 && parts[0].equals("0") && (parts[1].equals(".") || parts[1].isEmpty());
  }

  private Hashtable<String, String> environment() {
    Hashtable<String, String> env = new Hashtable<>();
    env.put(Context.INITIAL_CONTEXT_FACTORY, "com.sun.jndi.dns.DnsContextFactory");
    // "dns:" alone means the system's resolvers; several servers are tried in order.
    env.put(Context.PROVIDER_URL, settings.dnsServers().isEmpty() ? "dns:"
        : String.join(" ", settings.dnsServers().stream().map(s -> "dns://" + s).toList()));
    // One try of the whole timeout, then one retry with twice that, as the provider does: keep the sum short.
    long initial = Math.max(100, settings.dnsTimeout().toMillis() / 3);
    env.put("com.sun.jndi.dns.timeout.initial", Long.toString(initial));
    env.put("com.sun.jndi.dns.timeout.retries", "2");
    env.put("com.sun.jndi.dns.recursion", "true");
    return env;
  }
}
