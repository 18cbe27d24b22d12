package dev.sesame.passkeys;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sesame.config.ConfigException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * Names of passkey providers by AAGUID, so people see "iCloud Keychain" rather than a UUID. A small built-in table of
 * the common providers, optionally extended by a JSON file in the community's format
 * ({@code {"<aaguid>": {"name": "...", "icon_light": "...", "icon_dark": "..."}}}, as published in the
 * passkey-authenticator-aaguids project), whose entries win.
 */
public final class Aaguids {
  static final String UNKNOWN = "Passkey";

  private static final Map<UUID, String> BUILT_IN = Map.ofEntries(
      entry("fbfc3007-154e-4ecc-8c0b-6e020557d7bd", "iCloud Keychain"),
      entry("dd4ec289-e01d-41c9-bb89-70fa845d4bf2", "iCloud Keychain (Managed)"),
      entry("ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4", "Google Password Manager"),
      entry("adce0002-35bc-c60a-648b-0b25f1f05503", "Chrome on Mac"),
      entry("b5397666-4885-aa6b-cebf-e52262a439a2", "Chromium Browser"),
      entry("771b48fd-d3d4-4f74-9232-fc157ab0507a", "Edge on Mac"),
      entry("08987058-cadc-4b81-b6e1-30de50dcbe96", "Windows Hello"),
      entry("9ddd1817-af5a-4672-a2b9-3e3dd95000a9", "Windows Hello"),
      entry("6028b017-b1d4-4c02-b4b3-afcdafc96bb2", "Windows Hello"),
      entry("bada5566-a7aa-401f-bd96-45619a55120d", "1Password"),
      entry("d548826e-79b4-db40-a3d8-11116f7e8349", "Bitwarden"),
      entry("531126d6-e717-415c-9320-3d9aa6981239", "Dashlane"),
      entry("53414d53-554e-4700-0000-000000000000", "Samsung Pass"),
      entry("b84e4048-15dc-4dd0-8640-f4f60813c8af", "NordPass"),
      entry("0ea242b4-43c4-4a1b-8b17-dd6d0b6baec6", "Keeper"),
      entry("f3809540-7f14-49c1-a8b3-8f813b225541", "Enpass"),
      entry("50726f74-6f6e-5061-7373-50726f746f6e", "Proton Pass"),
      entry("fdb141b2-5d84-443e-8a35-4698c205a502", "KeePassXC"));

  private final Map<UUID, String> names;

  private Aaguids(Map<UUID, String> names) {
    this.names = Map.copyOf(names);
  }

  public static Aaguids builtIn() {
    return new Aaguids(BUILT_IN);
  }

  /** The built-in table extended by {@code file}; a file that isn't in the expected format stops start-up. */
  public static Aaguids load(Optional<Path> file) {
    if (file.isEmpty()) {
      return builtIn();
    }
    Map<UUID, String> names = new HashMap<>(BUILT_IN);
    try {
      JsonNode root = new ObjectMapper().readTree(file.get().toFile());
      if (root == null || !root.isObject()) {
        throw new ConfigException("SESAME_AAGUID_FILE", "expected a JSON object keyed by AAGUID");
      }
      Iterator<Map.Entry<String, JsonNode>> fields = root.fields();
      while (fields.hasNext()) {
        Map.Entry<String, JsonNode> field = fields.next();
        JsonNode name = field.getValue().get("name");
        if (name != null && name.isTextual() && !name.asText().isBlank()) {
          names.put(UUID.fromString(field.getKey()), name.asText().strip());
        }
      }
    } catch (IOException | IllegalArgumentException e) {
      throw new ConfigException("SESAME_AAGUID_FILE", "is not a valid AAGUID list: " + e.getMessage());
    }
    return new Aaguids(names);
  }

  /** The provider's name, or "Passkey" for an unknown or all-zero AAGUID. */
  public String name(UUID aaguid) {
    return aaguid == null ? UNKNOWN : names.getOrDefault(aaguid, UNKNOWN);
  }

  private static Map.Entry<UUID, String> entry(String aaguid, String name) {
    return Map.entry(UUID.fromString(aaguid), name);
  }
}
