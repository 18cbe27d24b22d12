package dev.sesame.i18n;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.ibm.icu.text.DateFormat;
import com.ibm.icu.text.MessageFormat;
import com.ibm.icu.util.LocaleMatcher;
import com.ibm.icu.util.LocalePriorityList;
import com.ibm.icu.util.TimeZone;
import com.ibm.icu.util.ULocale;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The languages Sesame speaks: one resource file per language ({@code i18n/<tag>.json}, flat keys, ICU message
 * format), which of them this server offers, and which one a request gets. A person's language is chosen by, in
 * order: the OpenID Connect request's {@code ui_locales}, the element's (or page's) {@code lang}, the browser's
 * {@code Accept-Language}, then {@code SESAME_DEFAULT_LANGUAGE}. Matching is ICU's (CLDR): {@code de-AT} gets German,
 * {@code pt} and {@code pt-PT} get Brazilian Portuguese, {@code zh-TW} (traditional script) does not get simplified
 * Chinese.
 */
public final class Languages {
  /** Every language Sesame ships, in the order the console lists them. English is the reference file. */
  public static final List<String> SHIPPED =
      List.of("en", "de", "es", "fr", "it", "pt-BR", "pl", "nl", "ja", "zh-CN", "ar");

  /** Languages written right to left. */
  private static final List<String> RTL = List.of("ar", "he", "fa", "ur");

  private final Map<String, Catalog> catalogs;
  private final String defaultLanguage;
  private final LocaleMatcher matcher;
  private final List<String> offered;

  /**
   * @param offered the languages this server offers (a subset of {@link #SHIPPED}), the default among them
   */
  public Languages(List<String> offered, String defaultLanguage) {
    if (!offered.contains(defaultLanguage)) {
      throw new IllegalArgumentException("the default language must be offered");
    }
    Map<String, Catalog> loaded = new LinkedHashMap<>();
    for (String tag : SHIPPED) {
      loaded.put(tag, new Catalog(tag, read(tag)));
    }
    this.catalogs = loaded;
    this.offered = List.copyOf(offered);
    this.defaultLanguage = defaultLanguage;
    // No default locale in the matcher: "no match" is told apart from the default, so the next source is asked.
    LocaleMatcher.Builder builder = LocaleMatcher.builder().setNoDefaultLocale();
    for (String tag : this.offered) {
      builder.addSupportedULocale(ULocale.forLanguageTag(tag));
    }
    this.matcher = builder.build();
  }

  /** All shipped languages offered, English by default. */
  public static Languages all() {
    return new Languages(SHIPPED, "en");
  }

  public List<String> offered() {
    return offered;
  }

  public String defaultLanguage() {
    return defaultLanguage;
  }

  public Catalog catalog(String tag) {
    Catalog catalog = catalogs.get(tag);
    if (catalog == null) {
      throw new IllegalArgumentException("no such language: " + tag);
    }
    return catalog;
  }

  /** The catalog of a language this server offers, or of the default language. */
  public Catalog offeredOrDefault(String tag) {
    return catalog(tag != null && offered.contains(tag) ? tag : defaultLanguage);
  }

  /**
   * The best offered language for a list of preferences, each a source in priority order: a space- or
   * comma-separated list of BCP 47 tags ({@code ui_locales}, {@code lang}) or an {@code Accept-Language} header.
   * A source with no acceptable match (or null, blank, malformed) passes to the next; none: the default language.
   */
  public String choose(String... sources) {
    for (String source : sources) {
      Optional<String> match = match(source);
      if (match.isPresent()) {
        return match.get();
      }
    }
    return defaultLanguage;
  }

  /** The offered language that best matches one source of preference, if any does. */
  public Optional<String> match(String source) {
    if (source == null || source.isBlank() || source.length() > 500) {
      return Optional.empty();
    }
    List<ULocale> desired = new ArrayList<>();
    try {
      // Accept-Language (with q-values) or a plain list: LocalePriorityList reads both; spaces separate ui_locales.
      for (ULocale locale : LocalePriorityList.add(source.strip().replace(' ', ',')).build()) {
        desired.add(locale);
      }
    } catch (IllegalArgumentException malformed) {
      return Optional.empty();
    }
    if (desired.isEmpty()) {
      return Optional.empty();
    }
    ULocale best = matcher.getBestMatch(desired);
    return best == null ? Optional.empty() : Optional.of(best.toLanguageTag());
  }

  public static boolean rightToLeft(String tag) {
    return RTL.contains(tag.split("-")[0].toLowerCase(Locale.ROOT));
  }

  private static Map<String, String> read(String tag) {
    String path = "/i18n/" + tag + ".json";
    try (InputStream in = Languages.class.getResourceAsStream(path)) {
      if (in == null) {
        throw new IllegalStateException(path + " is missing from the jar");
      }
      return new ObjectMapper().readValue(in, new TypeReference<LinkedHashMap<String, String>>() {});
    } catch (IOException e) {
      throw new UncheckedIOException("reading " + path, e);
    }
  }

  /** The messages of one language. */
  public static final class Catalog {
    private final String tag;
    private final ULocale locale;
    private final Map<String, String> messages;

    Catalog(String tag, Map<String, String> messages) {
      this.tag = tag;
      this.locale = ULocale.forLanguageTag(tag);
      this.messages = Map.copyOf(messages);
    }

    public String tag() {
      return tag;
    }

    public ULocale locale() {
      return locale;
    }

    public String dir() {
      return rightToLeft(tag) ? "rtl" : "ltr";
    }

    /** Every key and its ICU pattern. */
    public Map<String, String> patterns() {
      return messages;
    }

    /**
     * One message with its arguments (names as in the pattern: strings, numbers, {@link java.time.Instant}s for
     * dates and times, shown in UTC). An unknown key is a programming error: the key test keeps files complete.
     */
    public String format(String key, Object... namesAndValues) {
      String pattern = messages.get(key);
      if (pattern == null) {
        throw new IllegalArgumentException("no message '" + key + "' in " + tag);
      }
      Map<String, Object> args = new LinkedHashMap<>();
      for (int i = 0; i + 1 < namesAndValues.length; i += 2) {
        Object value = namesAndValues[i + 1];
        args.put((String) namesAndValues[i], value instanceof java.time.Instant instant ? Date.from(instant) : value);
      }
      MessageFormat format = new MessageFormat(pattern, locale); // not thread-safe: one per call (cheap)
      for (java.text.Format f : format.getFormats()) {
        if (f instanceof DateFormat dates) {
          dates.setTimeZone(TimeZone.GMT_ZONE);
        }
      }
      return format.format(args);
    }
  }
}
