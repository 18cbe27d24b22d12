package dev.sesame.admin;

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

  /** Entries of a file as it is read, one at a time: none is kept after it was handled. */
  interface EntrySource {
    /** Visits every entry, or records why one could not be read; called once per pass over the file. */
    void forEach(Visitor visitor) throws IOException;
  }

  /** What a pass over a file does with each entry ({@code where} names it in errors) and with what was unreadable. */
  interface Visitor {
    void entry(Entry entry, String where);

    void unreadable(String error);
  }

  /** Entries imported per statement batch in the importing transaction. */
  static final int IMPORT_BATCH = 1000;
  /** Errors reported at most (the rest are counted). */
  static final int MAX_ERRORS = 1000;

  /** Imports a file of either format: Sesame's JSON, or Passage's CSV export ({@link PassageImport}). */
  public Result importFrom(InputStream in, Format format) throws IOException {
    return importFrom(in, format, true);
  }

  /**
   * Imports from a stream: it is written to a temporary file first (the file is read twice, and a request body only
   * once), then imported from there. {@code mayChangeAdministrators}: whether the caller may add passkeys to an
   * administrator's account (a console administrator, the CLI, or a service key with {@code admins:write}); without
   * it such an entry is an error and nothing is imported.
   */
  public Result importFrom(InputStream in, Format format, boolean mayChangeAdministrators) throws IOException {
    java.nio.file.Path spool = java.nio.file.Files.createTempFile("sesame-import-", ".tmp");
    try {
      try (OutputStream out = java.nio.file.Files.newOutputStream(spool)) {
        in.transferTo(out);
      }
      return importFrom(spool, format, mayChangeAdministrators);
    } finally {
      java.nio.file.Files.deleteIfExists(spool);
    }
  }

  /**
   * Imports a file in two passes, holding no more than one batch of it in memory (a file of any size the API takes,
   * on the smallest heap): the first checks every entry (and finds duplicates); only when all are right does the
   * second import them, batch by batch, in one transaction, so one conflict with what is stored (an address of
   * another id, a passkey of another account) still imports nothing.
   */
  public Result importFrom(java.nio.file.Path file, Format format, boolean mayChangeAdministrators)
      throws IOException {
    EntrySource source = format == Format.SESAME_JSON ? jsonSource(file) : PassageImport.source(file);
    // Pass 1: every entry checked; duplicates found by the addresses and credential ids seen so far.
    List<String> errors = new ArrayList<>();
    int[] more = {0};
    Set<String> emails = new HashSet<>();
    Set<String> credentialIds = new HashSet<>();
    java.util.function.Consumer<String> error = e -> {
      if (errors.size() < MAX_ERRORS) {
        errors.add(e);
      } else {
        more[0]++;
      }
    };
    int[] people = {0};
    source.forEach(new Visitor() {
      @Override
      public void entry(Entry entry, String where) {
        people[0]++;
        try {
          Checked c = check(entry);
          if (!emails.add(c.account().email())) {
            throw new IllegalArgumentException(c.account().email() + " appears twice in the file");
          }
          for (PasskeyTransfer.Checked p : c.passkeys()) {
            if (!credentialIds.add(B64.encodeToString(p.credentialId()))) {
              throw new IllegalArgumentException("passkey " + B64.encodeToString(p.credentialId())
                  + " appears twice in the file");
            }
          }
        } catch (ApiException ex) {
          error.accept(where + ": " + ex.detail());
        } catch (IllegalArgumentException ex) {
          error.accept(where + ": " + ex.getMessage());
        }
      }

      @Override
      public void unreadable(String message) {
        error.accept(message);
      }
    });
    if (!errors.isEmpty()) {
      errors.sort(java.util.Comparator.comparingLong(UserTransfer::position)); // in file order
      if (more[0] > 0) {
        errors.add("… and " + more[0] + " more");
      }
      throw new Invalid(errors);
    }
    emails.clear();
    credentialIds.clear();
    // Pass 2: in one transaction, a batch at a time.
    return jdbi.inTransaction(h -> {
      List<String> conflicts = new ArrayList<>();
      List<Checked> batch = new ArrayList<>();
      List<String> places = new ArrayList<>();
      int[] totals = {0, 0};
      AuditLog audit = new AuditLog();
      Runnable flush = () -> {
        int[] added = importBatch(h, batch, places, mayChangeAdministrators, conflicts, audit);
        totals[0] += added[0];
        totals[1] += added[1];
        batch.clear();
        places.clear();
      };
      try {
        source.forEach(new Visitor() {
          @Override
          public void entry(Entry entry, String where) {
            batch.add(check(entry));
            places.add(where);
            if (batch.size() == IMPORT_BATCH) {
              flush.run();
            }
          }

          @Override
          public void unreadable(String message) {
            throw new IllegalStateException("the file changed while it was imported: " + message);
          }
        });
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
      flush.run();
      if (!conflicts.isEmpty()) {
        throw new Invalid(conflicts.size() > MAX_ERRORS ? conflicts.subList(0, MAX_ERRORS) : conflicts);
      }
      Result result = new Result(people[0], totals[0], totals[1]);
      audit.record(h, AuditLog.Type.USERS_IMPORTED, null, null, null, Map.of("people", result.users(),
          "accountsAdded", result.usersAdded(), "passkeysAdded", result.passkeysAdded()));
      return result;
    });
  }

  /** An entry that passed its own checks: the account to store and its passkeys. */
  private record Checked(Users.Transfer account, List<PasskeyTransfer.Checked> passkeys) {}

  /** One entry's own checks (duplicates across the file are the caller's). */
  private static Checked check(Entry e) {
    if (e == null) {
      throw new IllegalArgumentException("empty entry");
    }
    String email = EmailAddresses.normalize(e.email());
    byte[] handle = e.webauthnUserHandle() == null ? null : B64D.decode(e.webauthnUserHandle());
    if (handle != null && (handle.length < 1 || handle.length > 64)) {
      throw new IllegalArgumentException("webauthnUserHandle must be 1 to 64 bytes"); // WebAuthn L3 §5.4.3
    }
    List<PasskeyTransfer.Checked> passkeys = new ArrayList<>();
    for (PasskeyTransfer.Exported p : e.passkeys() == null ? List.<PasskeyTransfer.Exported>of() : e.passkeys()) {
      passkeys.add(PasskeyTransfer.check(p));
    }
    if (!passkeys.isEmpty() && handle == null) {
      throw new IllegalArgumentException("webauthnUserHandle is required with passkeys: the authenticators "
          + "return it at sign-in");
    }
    return new Checked(new Users.Transfer(e.id() == null ? UUID.randomUUID() : e.id(), email,
        e.emailVerified() == null || e.emailVerified(), e.createdAt(), handle,
        e.disabled() != null && e.disabled(),
        e.publicMetadata() == null ? null : Metadata.validate("publicMetadata", e.publicMetadata()),
        e.privateMetadata() == null ? null : Metadata.validate("privateMetadata", e.privateMetadata())), passkeys);
  }

  /**
   * Stores one batch within the import's transaction: the accounts, then the passkeys that are new and belong where
   * the file says; what conflicts with what is stored goes to {@code conflicts}. Returns accounts and passkeys added.
   */
  private static int[] importBatch(org.jdbi.v3.core.Handle h, List<Checked> batch, List<String> places,
                                   boolean mayChangeAdministrators, List<String> conflicts, AuditLog audit) {
    if (batch.isEmpty()) {
      return new int[] {0, 0};
    }
    List<Users.Transfer> accounts = batch.stream().map(Checked::account).toList();
    int usersAdded = Users.importAll(h, accounts);
    Map<String, Users.Transfer> stored = Users.byEmails(h, accounts.stream().map(Users.Transfer::email).toList());
    List<byte[]> allIds = batch.stream().flatMap(c -> c.passkeys().stream())
        .map(PasskeyTransfer.Checked::credentialId).toList();
    Map<String, UUID> owners = allIds.isEmpty() ? Map.of() : PasskeyTransfer.owners(h, allIds);
    Map<PasskeyTransfer.Checked, UUID> toStore = new LinkedHashMap<>();
    for (int i = 0; i < batch.size(); i++) {
      Users.Transfer wanted = batch.get(i).account();
      Users.Transfer account = stored.get(wanted.email());
      if (account == null) {
        conflicts.add(places.get(i) + ": id " + wanted.id() + " belongs to another account");
        continue;
      }
      for (PasskeyTransfer.Checked c : batch.get(i).passkeys()) {
        UUID owner = owners.get(B64.encodeToString(c.credentialId()));
        if (owner != null && !owner.equals(account.id())) {
          conflicts.add(places.get(i) + ": a passkey with this credentialId belongs to another account");
        } else if (owner == null && !Arrays.equals(account.webauthnUserHandle(), wanted.webauthnUserHandle())) {
          conflicts.add(places.get(i) + ": " + wanted.email() + " has an account here with another WebAuthn "
              + "user handle, so these passkeys could not sign in to it");
        } else if (owner == null && !mayChangeAdministrators && Users.hasRole(h, account.id(), Users.ADMIN)) {
          conflicts.add(places.get(i) + ": " + wanted.email() + " is an administrator here; adding passkeys to "
              + "an administrator takes a console administrator or a service key with 'admins:write'");
        } else if (owner == null) {
          toStore.put(c, account.id());
        }
      }
    }
    if (!conflicts.isEmpty()) {
      return new int[] {usersAdded, 0}; // the transaction is rolled back at the end: nothing to add
    }
    int passkeysAdded = PasskeyTransfer.insert(h, toStore);
    // Every passkey added is on its owner's record, as one they registered themselves would be.
    for (Map.Entry<PasskeyTransfer.Checked, UUID> added : toStore.entrySet()) {
      audit.record(h, AuditLog.Type.PASSKEY_ADDED, added.getValue(), null, null, Map.of("via", "import",
          "credentialId", B64.encodeToString(added.getKey().credentialId())));
    }
    return new int[] {usersAdded, passkeysAdded};
  }

  /**
   * Sesame's JSON format, read as a stream: {@code {"format": "sesame-users/1", "users": [entry, …]}}, each entry
   * bound on its own (Jackson's streaming parser), so the whole file is never in memory.
   */
  static EntrySource jsonSource(java.nio.file.Path file) {
    return visitor -> {
      try (InputStream in = java.nio.file.Files.newInputStream(file);
           com.fasterxml.jackson.core.JsonParser p = JSON.getFactory().createParser(in)) {
        String format = null;
        boolean users = false;
        if (p.nextToken() != com.fasterxml.jackson.core.JsonToken.START_OBJECT) {
          throw new com.fasterxml.jackson.core.JsonParseException(p, "the file is not a JSON object");
        }
        while (p.nextToken() == com.fasterxml.jackson.core.JsonToken.FIELD_NAME) {
          String name = p.currentName();
          com.fasterxml.jackson.core.JsonToken value = p.nextToken();
          if (name.equals("format") && value == com.fasterxml.jackson.core.JsonToken.VALUE_STRING) {
            format = p.getText();
          } else if (name.equals("users") && value == com.fasterxml.jackson.core.JsonToken.START_ARRAY) {
            users = true;
            int index = 0;
            while (p.nextToken() != com.fasterxml.jackson.core.JsonToken.END_ARRAY) {
              index++;
              Entry entry;
              try {
                entry = JSON.readValue(p, Entry.class);
              } catch (com.fasterxml.jackson.databind.JsonMappingException e) {
                visitor.unreadable("entry " + index + ": " + e.getOriginalMessage());
                p.skipChildren();
                continue;
              }
              visitor.entry(entry, "entry " + index);
            }
          } else {
            p.skipChildren();
          }
        }
        if (!FORMAT.equals(format) || !users) {
          visitor.unreadable("the file must be {\"format\": \"" + FORMAT + "\", \"users\": […]}");
        }
      } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
        visitor.unreadable("the file is not the user JSON format: " + e.getOriginalMessage());
      }
    };
  }
}
