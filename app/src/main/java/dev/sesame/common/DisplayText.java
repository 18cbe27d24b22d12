package dev.sesame.common;

/**
 * Names that people are shown (an app's {@code client_name}, a passkey's name): text that reads as it is stored.
 * Control characters, and the invisible format characters among them the bidirectional overrides and isolates
 * (U+202A–U+202E, U+2066–U+2069) that make "moc.elpmaxe" read as "example.com" or turn a consent warning around
 * (CVE-2021-42574, "Trojan Source"; Unicode TR #36 §2.1), are refused where a name is set, not cleaned up later.
 */
public final class DisplayText {
  private DisplayText() {}

  /**
   * True when every character is visible text or an ordinary space: no controls (Cc), format characters (Cf,
   * bidi controls, zero-width spaces, the BOM), line or paragraph separators, private-use, unassigned or lone
   * surrogate code points. The zero-width joiner alone is allowed, as emoji sequences need it.
   */
  public static boolean readable(String text) {
    return text.codePoints().allMatch(cp -> {
      if (cp == 0x200D) {
        return true;
      }
      int type = Character.getType(cp);
      return type != Character.CONTROL && type != Character.FORMAT && type != Character.LINE_SEPARATOR
          && type != Character.PARAGRAPH_SEPARATOR && type != Character.PRIVATE_USE && type != Character.UNASSIGNED
          && type != Character.SURROGATE;
    });
  }
}
