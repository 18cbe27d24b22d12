package dev.sesame.admin;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import dev.sesame.audit.AuditLog;
import dev.sesame.common.ApiException;
import dev.sesame.passkeys.PasskeyTransfer;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import dev.sesame.users.EmailAddresses;
import dev.sesame.users.Metadata;
import dev.sesame.users.Users;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.jdbi.v3.core.Jdbi;

/**
 * {@code users export} and {@code users import}: Sesame's JSON user format, which carries passkeys, so the people of
 * another Sesame — or of any WebAuthn server with the same RP ID whose data is written in this format — keep their
 * accounts and passkeys. An import checks every entry first and imports nothing when one is wrong (the errors name
 * the entries); it is idempotent: an address that has an account keeps it, a passkey already stored is left alone,
 * so running it again changes nothing.
 */
public final class UserTransfer {
  public static final String FORMAT = "sesame-users/1";
  private static final ObjectMapper JSON = new ObjectMapper().registerModule(new JavaTimeModule())
      .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
      .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);
  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
  private static final Base64.Decoder B64D = Base64.getUrlDecoder();

  /** One person in the file. */
  public record Entry(UUID id, String email, Boolean emailVerified, Instant createdAt, Boolean disabled,
                      String webauthnUserHandle, JsonNode publicMetadata, JsonNode privateMetadata,
                      List<PasskeyTransfer.Exported> passkeys) {}

  /** The file. */
  public record File(String format, List<Entry> users) {}

  /** What an import did. */
  public record Result(int users, int usersAdded, int passkeysAdded) {}

  /** Entries that are wrong, each with its number (1-based) and why; nothing was imported. */
  public static final class Invalid extends RuntimeException {
    private final List<String> errors;

    Invalid(List<String> errors) {
      super(String.join("\n", errors), null, false, false);
      this.errors = errors;
    }

    public List<String> errors() {
      return errors;
    }
  }

  /** The number in "line 12: …" or "entry 12: …". */
  private static long position(String error) {
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("^\\w+ (\\d+):").matcher(error);
    return m.find() ? Long.parseLong(m.group(1)) : 0;
  }

  private final Jdbi jdbi;

  public UserTransfer(Jdbi jdbi) {
    this.jdbi = jdbi;
  }

  /** Accounts read per query of a streamed export. */
  static final int EXPORT_PAGE = 1000;

  /**
   * Writes every account and its passkeys, a page at a time (a million people export in constant memory), from one
   * repeatable-read transaction, so the file is one consistent moment.
   */
  public void export(OutputStream out) throws IOException {
    try (JsonGenerator json = JSON.getFactory().createGenerator(out)) {
      json.useDefaultPrettyPrinter();
      json.writeStartObject();
      json.writeStringField("format", FORMAT);
      json.writeArrayFieldStart("users");
      jdbi.useTransaction(org.jdbi.v3.core.transaction.TransactionIsolationLevel.REPEATABLE_READ, h -> {
        Users.Cursor after = null;
        List<Users.Transfer> page;
        do {
          page = Users.exportPage(h, after, EXPORT_PAGE);
          Map<UUID, List<PasskeyTransfer.Exported>> passkeys = PasskeyTransfer.exportOf(h,
              page.stream().map(Users.Transfer::id).toList());
          for (Users.Transfer t : page) {
            JSON.writeValue(json, new Entry(t.id(), t.email(), t.emailVerified(), t.createdAt(), t.disabled(),
                B64.encodeToString(t.webauthnUserHandle()), JSON.readTree(t.publicMetadata()),
                JSON.readTree(t.privateMetadata()), passkeys.getOrDefault(t.id(), List.of())));
          }
          if (!page.isEmpty()) {
            Users.Transfer last = page.get(page.size() - 1);
            after = new Users.Cursor(last.createdAt(), last.id());
          }
        } while (page.size() == EXPORT_PAGE);
      });
      json.writeEndArray();
      json.writeEndObject();
    }
  }

  /** The formats {@link #importFrom(InputStream, Format)} reads. */
  public enum Format { SESAME_JSON, PASSAGE_CSV }

  /** Imports a file of either format: Sesame's JSON, or Passage's CSV export ({@link PassageImport}). */
  public Result importFrom(InputStream in, Format format) throws IOException {
    return importFrom(in, format, true);
  }

  /**
   * {@code mayChangeAdministrators}: whether the caller may add passkeys to an administrator's account (a console
   * administrator, the CLI, or a service key with {@code admins:write}); without it such an entry is an error and
   * nothing is imported.
   */
  public Result importFrom(InputStream in, Format format, boolean mayChangeAdministrators) throws IOException {
    if (format == Format.SESAME_JSON) {
      return importFrom(in, mayChangeAdministrators);
    }
    PassageImport.Read read = PassageImport.read(in);
    return importEntries(read.entries(), i -> "line " + read.lines().get(i), read.errors(), mayChangeAdministrators);
  }

  /** Reads, checks every entry, then imports all in one transaction (batches). */
  public Result importFrom(InputStream in, boolean mayChangeAdministrators) throws IOException {
    File file;
    try {
      file = JSON.readValue(in, new TypeReference<>() {});
    } catch (IOException e) {
      throw new Invalid(List.of("the file is not the user JSON format: " + e.getMessage().lines().findFirst()
          .orElse("")));
    }
    if (file == null || !FORMAT.equals(file.format()) || file.users() == null) {
      throw new Invalid(List.of("the file must be {\"format\": \"" + FORMAT + "\", \"users\": […]}"));
    }
    return importEntries(file.users(), i -> "entry " + (i + 1), List.of(), mayChangeAdministrators);
  }

  /**
   * Checks every entry, then imports all in one transaction; {@code where} names an entry in errors (its number,
   * or the CSV line it came from), {@code earlier} are errors found while reading the file.
   */
  Result importEntries(List<Entry> entries, java.util.function.IntFunction<String> where, List<String> earlier,
                       boolean mayChangeAdministrators) {
    List<String> errors = new ArrayList<>(earlier);
    File file = new File(FORMAT, entries);
    List<Users.Transfer> accounts = new ArrayList<>();
    Map<String, List<PasskeyTransfer.Checked>> passkeysByEmail = new LinkedHashMap<>();
    Set<String> emails = new HashSet<>();
    Set<String> credentialIds = new HashSet<>();
    for (int i = 0; i < file.users().size(); i++) {
      Entry e = file.users().get(i);
      String at = where.apply(i);
      try {
        if (e == null) {
          throw new IllegalArgumentException("empty entry");
        }
        String email = EmailAddresses.normalize(e.email());
        if (!emails.add(email)) {
          throw new IllegalArgumentException(email + " appears twice in the file");
        }
        byte[] handle = e.webauthnUserHandle() == null ? null : B64D.decode(e.webauthnUserHandle());
        if (handle != null && (handle.length < 1 || handle.length > 64)) {
          throw new IllegalArgumentException("webauthnUserHandle must be 1 to 64 bytes"); // WebAuthn L3 §5.4.3
        }
        List<PasskeyTransfer.Checked> passkeys = new ArrayList<>();
        for (PasskeyTransfer.Exported p : e.passkeys() == null ? List.<PasskeyTransfer.Exported>of() : e.passkeys()) {
          PasskeyTransfer.Checked c = PasskeyTransfer.check(p);
          if (!credentialIds.add(B64.encodeToString(c.credentialId()))) {
            throw new IllegalArgumentException("passkey " + p.credentialId() + " appears twice in the file");
          }
          passkeys.add(c);
        }
        if (!passkeys.isEmpty() && handle == null) {
          throw new IllegalArgumentException("webauthnUserHandle is required with passkeys: the authenticators "
              + "return it at sign-in");
        }
        accounts.add(new Users.Transfer(e.id() == null ? UUID.randomUUID() : e.id(), email,
            e.emailVerified() == null || e.emailVerified(), e.createdAt(), handle,
            e.disabled() != null && e.disabled(),
            e.publicMetadata() == null ? null : Metadata.validate("publicMetadata", e.publicMetadata()),
            e.privateMetadata() == null ? null : Metadata.validate("privateMetadata", e.privateMetadata())));
        passkeysByEmail.put(email, passkeys);
      } catch (ApiException ex) {
        errors.add(at + ": " + ex.detail());
      } catch (IllegalArgumentException ex) {
        errors.add(at + ": " + ex.getMessage());
      }
    }
    if (!errors.isEmpty()) {
      errors.sort(java.util.Comparator.comparingLong(UserTransfer::position)); // in file order
      throw new Invalid(errors);
    }
    return jdbi.inTransaction(h -> {
      int usersAdded = Users.importAll(h, accounts);
      Map<String, Users.Transfer> stored = Users.byEmails(h, accounts.stream().map(Users.Transfer::email).toList());
      List<byte[]> allIds = passkeysByEmail.values().stream().flatMap(List::stream)
          .map(PasskeyTransfer.Checked::credentialId).toList();
      Map<String, UUID> owners = PasskeyTransfer.owners(h, allIds);
      Map<PasskeyTransfer.Checked, UUID> toStore = new LinkedHashMap<>();
      List<String> conflicts = new ArrayList<>();
      for (int i = 0; i < accounts.size(); i++) {
        Users.Transfer wanted = accounts.get(i);
        Users.Transfer account = stored.get(wanted.email());
        if (account == null) {
          conflicts.add(where.apply(i) + ": id " + wanted.id() + " belongs to another account");
          continue;
        }
        for (PasskeyTransfer.Checked c : passkeysByEmail.get(wanted.email())) {
          UUID owner = owners.get(B64.encodeToString(c.credentialId()));
          if (owner != null && !owner.equals(account.id())) {
            conflicts.add(where.apply(i) + ": a passkey with this credentialId belongs to another account");
          } else if (owner == null && !Arrays.equals(account.webauthnUserHandle(), wanted.webauthnUserHandle())) {
            conflicts.add(where.apply(i) + ": " + wanted.email() + " has an account here with another WebAuthn "
                + "user handle, so these passkeys could not sign in to it");
          } else if (owner == null && !mayChangeAdministrators && Users.hasRole(h, account.id(), Users.ADMIN)) {
            conflicts.add(where.apply(i) + ": " + wanted.email() + " is an administrator here; adding passkeys to "
                + "an administrator takes a console administrator or a service key with 'admins:write'");
          } else if (owner == null) {
            toStore.put(c, account.id());
          }
        }
      }
      if (!conflicts.isEmpty()) {
        throw new Invalid(conflicts); // rolls the transaction back: nothing imported
      }
      Result result = new Result(accounts.size(), usersAdded, PasskeyTransfer.insert(h, toStore));
      // Every passkey added is on its owner's record, as one they registered themselves would be.
      AuditLog audit = new AuditLog();
      for (Map.Entry<PasskeyTransfer.Checked, UUID> added : toStore.entrySet()) {
        audit.record(h, AuditLog.Type.PASSKEY_ADDED, added.getValue(), null, null, Map.of("via", "import",
            "credentialId", B64.encodeToString(added.getKey().credentialId())));
      }
      new AuditLog().record(h, AuditLog.Type.USERS_IMPORTED, null, null, null, Map.of("people", result.users(),
          "accountsAdded", result.usersAdded(), "passkeysAdded", result.passkeysAdded()));
      return result;
    });
  }
}
