package dev.sesame.users;

import dev.sesame.common.ApiException;
import java.net.IDN;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Email syntax as people type it: trimmed, lower-cased, the domain converted to ASCII (IDNA), so that
 * {@code Ana@Bücher.example} and {@code ana@xn--bcher-kva.example} are the same account.
 */
public final class EmailAddresses {
  // RFC 5322 dot-atom local part; quoted local parts are legal but not accepted here (no mail provider issues them).
  private static final Pattern LOCAL = Pattern.compile("[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*");
  private static final Pattern LABEL = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");

  private EmailAddresses() {}

  /** The canonical form of {@code raw}, or 400 {@code invalid_email}. */
  public static String normalize(String raw) {
    String email = raw == null ? "" : raw.strip();
    int at = email.lastIndexOf('@');
    if (at <= 0 || at == email.length() - 1 || email.length() > 254) {
      throw invalid();
    }
    String local = email.substring(0, at);
    String domain = email.substring(at + 1);
    if (local.length() > 64 || !LOCAL.matcher(local).matches()) {
      throw invalid();
    }
    String asciiDomain;
    try {
      asciiDomain = IDN.toASCII(domain, IDN.USE_STD3_ASCII_RULES).toLowerCase(Locale.ROOT);
    } catch (IllegalArgumentException e) {
      throw invalid();
    }
    String[] labels = asciiDomain.split("\\.", -1);
    if (labels.length < 2 || asciiDomain.length() > 253) {
      throw invalid();
    }
    for (String label : labels) {
      if (!LABEL.matcher(label).matches()) {
        throw invalid();
      }
    }
    if (labels[labels.length - 1].chars().allMatch(Character::isDigit)) {
      throw invalid(); // an IP address is not a mail domain people sign in with
    }
    return local.toLowerCase(Locale.ROOT) + "@" + asciiDomain;
  }

  private static ApiException invalid() {
    return ApiException.badRequest("invalid_email", "That does not look like an email address.");
  }
}
