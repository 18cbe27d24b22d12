package dev.sesame.i18n;

import com.ibm.icu.text.MessagePattern;
import com.ibm.icu.text.MessagePattern.ArgType;
import com.ibm.icu.text.MessagePattern.Part;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * ICU messages for the browser, parsed here by ICU4J so the elements need no parser of their own: each message
 * becomes a list of parts — text, {@code {"a": name}} (an argument), {@code {"a", "p": {selector: parts}, "o":
 * offset}} (a plural: the browser picks the case with {@code Intl.PluralRules}, its own CLDR data),
 * {@code {"a", "s": {...}}} (a select), {@code {"#": 1}} (the plural's number), {@code {"a", "t": "number"}}.
 * Other argument types (dates, choice) are not sent: the elements format dates themselves with {@code Intl}.
 */
public final class BrowserMessages {
  private BrowserMessages() {}

  /** Every message of a catalog whose key the browser uses (all but the emails'), compiled. */
  public static Map<String, Object> of(Languages.Catalog catalog) {
    Map<String, Object> out = new java.util.TreeMap<>();
    catalog.patterns().forEach((key, pattern) -> {
      if (!key.startsWith("email.")) {
        out.put(key, compile(pattern));
      }
    });
    return out;
  }

  /** One pattern as parts; a plain text is sent as the string itself. */
  public static Object compile(String pattern) {
    MessagePattern parsed = new MessagePattern(pattern);
    List<Object> parts = message(parsed, 0);
    if (parts.isEmpty()) {
      return "";
    }
    return parts.size() == 1 && parts.get(0) instanceof String text ? text : parts;
  }

  private static List<Object> message(MessagePattern p, int start) {
    String s = p.getPatternString();
    List<Object> out = new ArrayList<>();
    StringBuilder text = new StringBuilder();
    int prev = p.getPart(start).getLimit();
    for (int i = start + 1; ; i++) {
      Part part = p.getPart(i);
      text.append(s, prev, part.getIndex());
      prev = part.getLimit();
      switch (part.getType()) {
        case MSG_LIMIT -> {
          flush(text, out);
          return out;
        }
        case SKIP_SYNTAX -> { }
        case INSERT_CHAR -> text.append((char) part.getValue());
        case REPLACE_NUMBER -> {
          flush(text, out);
          out.add(Map.of("#", 1));
        }
        case ARG_START -> {
          flush(text, out);
          int limit = p.getLimitPartIndex(i);
          out.add(argument(p, i, limit, part.getArgType()));
          i = limit;
          prev = p.getPart(limit).getLimit();
        }
        default -> throw new IllegalArgumentException("unexpected " + part.getType() + " in '" + s + "'");
      }
    }
  }

  private static Map<String, Object> argument(MessagePattern p, int start, int limit, ArgType type) {
    String name = p.getSubstring(p.getPart(start + 1));
    Map<String, Object> arg = new LinkedHashMap<>();
    arg.put("a", name);
    switch (type) {
      case NONE -> { }
      case SIMPLE -> {
        String typeName = p.getSubstring(p.getPart(start + 2));
        if (!typeName.equals("number") || p.getPart(start + 3).getType() != Part.Type.ARG_LIMIT) {
          throw new IllegalArgumentException("the browser formats only {" + name + "} and {" + name + ", number}");
        }
        arg.put("t", "number");
      }
      case PLURAL, SELECT -> {
        Map<String, Object> cases = new LinkedHashMap<>();
        for (int j = start + 2; j < limit; j++) {
          if (p.getPartType(j) != Part.Type.ARG_SELECTOR) {
            continue; // the plural's offset value
          }
          String selector = p.getSubstring(p.getPart(j));
          if (p.getPartType(j + 1).hasNumericValue()) {
            j++; // =N
          }
          cases.put(selector, message(p, j + 1));
          j = p.getLimitPartIndex(j + 1);
        }
        arg.put(type == ArgType.PLURAL ? "p" : "s", cases);
        if (type == ArgType.PLURAL && p.getPluralOffset(start) != 0) {
          arg.put("o", p.getPluralOffset(start));
        }
      }
      default -> throw new IllegalArgumentException("the browser cannot format {" + name + ", " + type + "}");
    }
    return arg;
  }

  private static void flush(StringBuilder text, List<Object> out) {
    if (!text.isEmpty()) {
      out.add(text.toString());
      text.setLength(0);
    }
  }
}
