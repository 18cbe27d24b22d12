package dev.sesame.i18n;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.ibm.icu.text.MessagePattern;
import com.ibm.icu.text.PluralRules;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

class LanguagesTest {
  private final Languages languages = Languages.all();

  @Test
  void every_language_file_has_exactly_the_keys_of_the_english_one() {
    Set<String> reference = languages.catalog("en").patterns().keySet();
    for (String tag : Languages.SHIPPED) {
      Set<String> keys = languages.catalog(tag).patterns().keySet();
      Set<String> missing = new TreeSet<>(reference);
      missing.removeAll(keys);
      Set<String> extra = new TreeSet<>(keys);
      extra.removeAll(reference);
      assertTrue(missing.isEmpty() && extra.isEmpty(), tag + ": missing " + missing + ", extra " + extra);
    }
  }

  @Test
  void at_least_the_ten_languages_the_issue_names_ship() {
    assertTrue(Languages.SHIPPED.containsAll(
        List.of("en", "de", "es", "fr", "it", "pt-BR", "pl", "nl", "ja", "zh-CN")), Languages.SHIPPED.toString());
  }

  /**
   * A message uses the same arguments in every language (a translation that drops {email} or invents {mail} would
   * show a hole or throw), and every plural has a case for each category the language's CLDR rules give an integer
   * up to 1000 (Polish needs one, few and many; Arabic six; Japanese only other).
   */
  @Test
  void every_message_has_the_english_arguments_and_the_plural_forms_its_language_needs() {
    List<String> problems = new ArrayList<>();
    Map<String, String> english = languages.catalog("en").patterns();
    for (String tag : Languages.SHIPPED) {
      Languages.Catalog catalog = languages.catalog(tag);
      PluralRules rules = PluralRules.forLocale(catalog.locale());
      Set<String> needed = new TreeSet<>();
      for (int n = 0; n <= 1000; n++) {
        needed.add(rules.select(n));
      }
      catalog.patterns().forEach((key, pattern) -> {
        MessagePattern parsed;
        try {
          parsed = new MessagePattern(pattern);
        } catch (IllegalArgumentException e) {
          problems.add(tag + " " + key + ": " + e.getMessage());
          return;
        }
        if (!arguments(parsed).equals(arguments(new MessagePattern(english.get(key))))) {
          problems.add(tag + " " + key + ": arguments " + arguments(parsed) + " instead of "
              + arguments(new MessagePattern(english.get(key))));
        }
        for (Set<String> cases : pluralCases(parsed)) {
          Set<String> lacking = new TreeSet<>(needed);
          lacking.removeAll(cases);
          if (!lacking.isEmpty()) {
            problems.add(tag + " " + key + ": no plural case for " + lacking);
          }
        }
      });
    }
    assertTrue(problems.isEmpty(), String.join("\n", problems));
  }

  @Test
  void every_message_formats_in_every_language_with_its_arguments() {
    Object[] args = {"app", "Acme", "email", "ana@example.com", "code", "123456", "minutes", 5, "hours", 24, "count", 3,
        "expiresAt", Instant.parse("2026-06-01T12:30:00Z"), "newEmail", "new@example.com", "name", "iPhone",
        "authenticator", "Touch ID", "support", "help@example.com", "created", "1 Jun", "lastUsed", "2 Jun"};
    for (String tag : Languages.SHIPPED) {
      Languages.Catalog catalog = languages.catalog(tag);
      for (String key : catalog.patterns().keySet()) {
        String text = catalog.format(key, args);
        assertFalse(text.isBlank(), tag + " " + key);
        assertFalse(text.contains("{") || text.contains("}"), tag + " " + key + ": " + text);
      }
    }
  }

  @Test
  void plurals_follow_each_language_rules() {
    assertEquals("Ten link działa tylko raz i wygasa za 2 minuty.",
        languages.catalog("pl").format("link.expires", "minutes", 2));
    assertEquals("Ten link działa tylko raz i wygasa za 5 minut.",
        languages.catalog("pl").format("link.expires", "minutes", 5));
    assertEquals("Ten link działa tylko raz i wygasa za 22 minuty.",
        languages.catalog("pl").format("link.expires", "minutes", 22));
    assertTrue(languages.catalog("ar").format("link.expires", "minutes", 2).contains("دقيقتين"));
    // A day is said in hours, not as 1,432 minutes.
    assertEquals("Dieser Link funktioniert einmal und läuft in 24 Stunden ab.",
        languages.catalog("de").format("link.expiresHours", "hours", 24));
    assertEquals("Ten link działa tylko raz i wygasa za 24 godziny.",
        languages.catalog("pl").format("link.expiresHours", "hours", 24));
    assertTrue(languages.catalog("en").format("link.expires", "minutes", 1).contains("1 minute."));
    assertTrue(languages.catalog("de").format("email.confirmAddress.expiry",
        "expiresAt", Instant.parse("2026-06-01T12:30:00Z")).contains("1. Juni 2026 um 12:30"));
  }

  @Test
  void a_language_is_chosen_by_ui_locales_then_lang_then_accept_language_then_the_default() {
    assertEquals("de", languages.choose("de-AT fr", "es", "it"));
    assertEquals("es", languages.choose("sv", "es", "it"), "ui_locales Sesame does not offer pass to the next");
    assertEquals("it", languages.choose(null, "", "it-CH,it;q=0.9,en;q=0.8"));
    assertEquals("fr", languages.choose(null, null, "sv;q=1.0, fr;q=0.7, en;q=0.5"));
    assertEquals("pt-BR", languages.choose("pt"));
    assertEquals("pt-BR", languages.choose("pt-PT"));
    assertEquals("zh-CN", languages.choose("zh-Hans"));
    assertEquals("zh-CN", languages.choose("zh"));
    assertEquals("en", languages.choose("zh-TW"), "traditional Chinese is not simplified Chinese");
    assertEquals("en", languages.choose("xx-@@", "%%%", null), "malformed tags fall through");
    assertEquals("en", languages.choose());
    Languages spanishFirst = new Languages(List.of("es", "en"), "es");
    assertEquals("es", spanishFirst.choose(null, "de"), "a language not offered falls to the default");
    assertEquals("en", spanishFirst.choose("en-GB"));
  }

  @Test
  void right_to_left_languages_say_so() {
    assertEquals("rtl", languages.catalog("ar").dir());
    assertEquals("ltr", languages.catalog("de").dir());
  }

  @Test
  void browser_messages_keep_plurals_for_the_browser_to_pick() {
    Object compiled = BrowserMessages.compile("Hi {email}. It expires in {minutes, plural, one {# minute} "
        + "other {# minutes}}. It''s '{'literal'}'.");
    assertEquals(List.of("Hi ", Map.of("a", "email"), ". It expires in ",
        Map.of("a", "minutes", "p", Map.of(
            "one", List.of(Map.of("#", 1), " minute"),
            "other", List.of(Map.of("#", 1), " minutes"))),
        ". It's {literal}."), compiled);
    assertEquals("plain", BrowserMessages.compile("plain"));
    for (String tag : Languages.SHIPPED) {
      Map<String, Object> messages = BrowserMessages.of(languages.catalog(tag));
      assertTrue(messages.containsKey("auth.code.help") && !messages.containsKey("email.signIn.subject"), tag);
    }
  }

  private static Set<String> arguments(MessagePattern p) {
    Set<String> names = new TreeSet<>();
    for (int i = 0; i < p.countParts(); i++) {
      if (p.getPartType(i) == MessagePattern.Part.Type.ARG_NAME) {
        names.add(p.getSubstring(p.getPart(i)));
      }
    }
    return names;
  }

  private static List<Set<String>> pluralCases(MessagePattern p) {
    List<Set<String>> out = new ArrayList<>();
    for (int i = 0; i < p.countParts(); i++) {
      if (p.getPartType(i) == MessagePattern.Part.Type.ARG_START
          && p.getPart(i).getArgType() == MessagePattern.ArgType.PLURAL) {
        Set<String> cases = new LinkedHashSet<>();
        int limit = p.getLimitPartIndex(i);
        for (int j = i + 1; j < limit; j++) {
          if (p.getPartType(j) == MessagePattern.Part.Type.ARG_SELECTOR) {
            cases.add(p.getSubstring(p.getPart(j)));
            j = p.getLimitPartIndex(j + (p.getPartType(j + 1).hasNumericValue() ? 2 : 1));
          }
        }
        if (cases.isEmpty()) {
          fail("a plural without cases");
        }
        out.add(cases);
      }
    }
    return out;
  }
}
