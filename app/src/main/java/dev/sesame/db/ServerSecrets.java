package dev.sesame.db;

import dev.sesame.common.Secrets;
import org.jdbi.v3.core.Jdbi;

/** Random secrets every node must share, created by whichever node needs one first. */
public final class ServerSecrets {
  private ServerSecrets() {}

  public static byte[] getOrCreate(Jdbi jdbi, String name, int bytes) {
    return jdbi.inTransaction(h -> {
      h.createUpdate("INSERT INTO server_secrets (name, value) VALUES (:name, :value) ON CONFLICT (name) DO NOTHING")
          .bind("name", name).bind("value", Secrets.randomBytes(bytes)).execute();
      return h.createQuery("SELECT value FROM server_secrets WHERE name = :name").bind("name", name)
          .mapTo(byte[].class).one();
    });
  }
}
