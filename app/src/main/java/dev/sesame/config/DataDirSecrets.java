package dev.sesame.config;

import dev.sesame.common.Secrets;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * Secrets Sesame generates for itself and keeps in the data directory, readable by its own user only (mode 0600):
 * the embedded database's password and, when {@code SESAME_MASTER_KEY} is not set, the master key.
 */
public final class DataDirSecrets {
  static final String MASTER_KEY_FILE = "master.key";
  private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");

  private DataDirSecrets() {}

  /** {@code SESAME_MASTER_KEY}, or the key in {@code SESAME_DATA_DIR/master.key}, created on first use. */
  public static Secret masterKey(Config config) {
    return config.masterKey().orElseGet(() -> readOrCreate(masterKeyFile(config)));
  }

  public static Path masterKeyFile(Config config) {
    return config.dataDir().resolve(MASTER_KEY_FILE);
  }

  /**
   * The secret in {@code file}, or a new random one (256 bits, base64url) written there with mode 0600. Creation is
   * atomic: two processes starting at once end up with the same secret.
   */
  public static Secret readOrCreate(Path file) {
    try {
      if (!Files.exists(file)) {
        Files.createDirectories(file.toAbsolutePath().getParent());
        Path temp = Files.createTempFile(file.toAbsolutePath().getParent(), ".secret", ".tmp");
        try {
          restrict(temp);
          Files.writeString(temp, Secrets.randomToken(32) + "\n", StandardCharsets.US_ASCII);
          try {
            Files.createLink(file, temp); // fails if another process created it first: keep theirs
          } catch (FileAlreadyExistsException keepTheirs) {
            // read below
          } catch (UnsupportedOperationException | IOException noLinks) {
            Files.move(temp, file);
          }
        } finally {
          Files.deleteIfExists(temp);
        }
      }
      restrict(file);
      String value = Files.readString(file, StandardCharsets.US_ASCII).strip();
      if (value.length() < 32) {
        throw new ConfigException("SESAME_DATA_DIR", file + " holds no usable secret (at least 32 characters)");
      }
      return new Secret(value);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read or create " + file + ": " + e.getMessage(), e);
    }
  }

  private static void restrict(Path file) throws IOException {
    try {
      Files.setPosixFilePermissions(file, OWNER_ONLY);
    } catch (UnsupportedOperationException notPosix) {
      // Windows: the data directory's own ACL applies
    }
  }
}
