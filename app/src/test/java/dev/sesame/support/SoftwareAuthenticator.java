package dev.sesame.support;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.Signature;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * A software passkey provider plus the browser glue around it: given WebAuthn L3 JSON options it answers with the
 * RegistrationResponseJSON / AuthenticationResponseJSON a browser's {@code credential.toJSON()} would produce. It
 * keeps discoverable credentials, and every part of a response can be bent for negative tests through {@link #next}.
 */
public final class SoftwareAuthenticator {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
  private static final Base64.Decoder B64D = Base64.getUrlDecoder();

  public enum Alg {
    ES256(-7), EDDSA(-8), RS256(-257);

    public final int cose;

    Alg(int cose) {
      this.cose = cose;
    }
  }

  /** One discoverable credential held by this authenticator. */
  public static final class Credential {
    public final byte[] id;
    public final KeyPair keyPair;
    public final Alg alg;
    public final String rpId;
    public final byte[] userHandle;
    public long signCount;

    Credential(byte[] id, KeyPair keyPair, Alg alg, String rpId, byte[] userHandle) {
      this.id = id;
      this.keyPair = keyPair;
      this.alg = alg;
      this.rpId = rpId;
      this.userHandle = userHandle;
    }
  }

  /** Deviations for the next ceremony only; everything null/false means "behave like a real authenticator". */
  public static final class Tamper {
    public String clientDataType;
    public String origin;
    public String rpIdForHash;
    public byte[] challenge;
    public Boolean userPresent;
    public Boolean userVerified;
    public Long signCount;
    public KeyPair signWith;
    public byte[] credentialId;
    public byte[] userHandle;
    public boolean corruptSignature;
    public Alg alg;
    public Integer coseAlgOverride;
    public byte[] attestedCredentialId;
    /** Send no {@code userHandle} at all (a non-discoverable credential answers like this). */
    public boolean omitUserHandle;
  }

  private final List<Credential> credentials = new ArrayList<>();
  public String origin;
  public Alg alg = Alg.ES256;
  public boolean backupEligible = true;
  public boolean backedUp = true;
  public boolean userVerifying = true;
  public UUID aaguid = new UUID(0, 0);
  /** "none", or "packed" for self attestation signed with the credential key. */
  public String attestationFormat = "none";
  /** 0 keeps the counter at zero forever, as synced passkeys do. */
  public int counterStep = 1;
  /** What {@code getTransports()} reports at registration. */
  public List<String> transports = List.of("hybrid", "internal");
  public Tamper next = new Tamper();

  public SoftwareAuthenticator(String origin) {
    this.origin = origin;
  }

  public List<Credential> credentials() {
    return credentials;
  }

  /** The same authenticator (the same passkeys) used on another origin of the same RP ID. */
  public SoftwareAuthenticator at(String otherOrigin) {
    SoftwareAuthenticator other = new SoftwareAuthenticator(otherOrigin);
    other.credentials.addAll(credentials);
    return other;
  }

  /** navigator.credentials.create(): returns RegistrationResponseJSON. */
  public ObjectNode create(JsonNode publicKey) {
    Tamper t = takeTamper();
    String rpId = publicKey.get("rp").get("id").asText();
    byte[] userHandle = B64D.decode(publicKey.get("user").get("id").asText());
    Alg chosen = t.alg != null ? t.alg : alg;
    KeyPair keyPair = generate(chosen);
    byte[] credentialId = t.credentialId != null ? t.credentialId : randomId();
    Credential credential = new Credential(credentialId, keyPair, chosen, rpId, userHandle);

    byte[] clientData = clientData(t.clientDataType != null ? t.clientDataType : "webauthn.create",
        t.challenge != null ? t.challenge : B64D.decode(publicKey.get("challenge").asText()),
        t.origin != null ? t.origin : origin);
    credential.signCount = counterStep == 0 ? 0 : counterStep;
    ByteArrayOutputStream attested = new ByteArrayOutputStream();
    attested.writeBytes(uuidBytes(aaguid));
    byte[] attestedId = t.attestedCredentialId != null ? t.attestedCredentialId : credentialId;
    attested.write(attestedId.length >> 8);
    attested.write(attestedId.length);
    attested.writeBytes(attestedId);
    attested.writeBytes(coseKey(keyPair, chosen, t.coseAlgOverride));
    byte[] authData = authData(t.rpIdForHash != null ? t.rpIdForHash : rpId, flags(t, true),
        t.signCount != null ? t.signCount : credential.signCount, attested.toByteArray());

    Map<Object, Object> attStmt = new LinkedHashMap<>();
    if (attestationFormat.equals("packed")) {
      attStmt.put("alg", chosen.cose);
      attStmt.put("sig", sign(keyPair, chosen, concat(authData, sha256(clientData)), t.corruptSignature));
    }
    Map<Object, Object> attestationObject = new LinkedHashMap<>();
    attestationObject.put("fmt", attestationFormat);
    attestationObject.put("attStmt", attStmt);
    attestationObject.put("authData", authData);
    credentials.add(credential);

    ObjectNode response = JSON.createObjectNode();
    response.put("clientDataJSON", B64.encodeToString(clientData));
    response.put("attestationObject", B64.encodeToString(Cbor.encode(attestationObject)));
    transports.forEach(response.putArray("transports")::add);
    return wrap(credentialId, response).set("clientExtensionResults",
        JSON.createObjectNode().set("credProps", JSON.createObjectNode().put("rk", true)));
  }

  /** navigator.credentials.get(): returns AuthenticationResponseJSON for the first usable credential. */
  public ObjectNode get(JsonNode publicKey) {
    Tamper t = takeTamper();
    String rpId = publicKey.get("rpId").asText();
    Credential credential = pick(publicKey, rpId);
    byte[] clientData = clientData(t.clientDataType != null ? t.clientDataType : "webauthn.get",
        t.challenge != null ? t.challenge : B64D.decode(publicKey.get("challenge").asText()),
        t.origin != null ? t.origin : origin);
    if (counterStep > 0) {
      credential.signCount += counterStep;
    }
    byte[] authData = authData(t.rpIdForHash != null ? t.rpIdForHash : rpId, flags(t, false),
        t.signCount != null ? t.signCount : credential.signCount, new byte[0]);
    byte[] signature = sign(t.signWith != null ? t.signWith : credential.keyPair, credential.alg,
        concat(authData, sha256(clientData)), t.corruptSignature);
    ObjectNode response = JSON.createObjectNode();
    response.put("clientDataJSON", B64.encodeToString(clientData));
    response.put("authenticatorData", B64.encodeToString(authData));
    response.put("signature", B64.encodeToString(signature));
    if (!t.omitUserHandle) {
      response.put("userHandle", B64.encodeToString(t.userHandle != null ? t.userHandle : credential.userHandle));
    }
    return wrap(t.credentialId != null ? t.credentialId : credential.id, response)
        .set("clientExtensionResults", JSON.createObjectNode());
  }

  private Credential pick(JsonNode publicKey, String rpId) {
    JsonNode allow = publicKey.get("allowCredentials");
    for (Credential c : credentials) {
      if (!c.rpId.equals(rpId)) {
        continue;
      }
      if (allow == null || allow.isEmpty()) {
        return c; // discoverable: the person picks this one
      }
      for (JsonNode descriptor : allow) {
        if (Arrays.equals(B64D.decode(descriptor.get("id").asText()), c.id)) {
          return c;
        }
      }
    }
    throw new AssertionError("NotAllowedError: no credential for " + rpId);
  }

  private Tamper takeTamper() {
    Tamper t = next;
    next = new Tamper();
    return t;
  }

  private ObjectNode wrap(byte[] credentialId, ObjectNode response) {
    ObjectNode credential = JSON.createObjectNode();
    credential.put("id", B64.encodeToString(credentialId));
    credential.put("rawId", B64.encodeToString(credentialId));
    credential.put("type", "public-key");
    credential.put("authenticatorAttachment", "platform");
    credential.set("response", response);
    return credential;
  }

  private int flags(Tamper t, boolean attestedData) {
    int flags = 0;
    if (t.userPresent == null || t.userPresent) {
      flags |= 0x01;
    }
    if (t.userVerified != null ? t.userVerified : userVerifying) {
      flags |= 0x04;
    }
    if (backupEligible) {
      flags |= 0x08;
    }
    if (backupEligible && backedUp) {
      flags |= 0x10;
    }
    if (attestedData) {
      flags |= 0x40;
    }
    return flags;
  }

  private static byte[] clientData(String type, byte[] challenge, String origin) {
    String json = "{\"type\":\"" + type + "\",\"challenge\":\"" + B64.encodeToString(challenge) + "\",\"origin\":\""
        + origin + "\",\"crossOrigin\":false}";
    return json.getBytes(StandardCharsets.UTF_8);
  }

  private static byte[] authData(String rpId, int flags, long signCount, byte[] attested) {
    return ByteBuffer.allocate(32 + 1 + 4 + attested.length)
        .put(sha256(rpId.getBytes(StandardCharsets.UTF_8))).put((byte) flags).putInt((int) signCount).put(attested)
        .array();
  }

  private static byte[] coseKey(KeyPair keyPair, Alg alg, Integer algOverride) {
    Map<Object, Object> key = new LinkedHashMap<>();
    int coseAlg = algOverride != null ? algOverride : alg.cose;
    switch (alg) {
      case ES256 -> {
        ECPublicKey pub = (ECPublicKey) keyPair.getPublic();
        key.put(1, 2);
        key.put(3, coseAlg);
        key.put(-1, 1);
        key.put(-2, unsigned(pub.getW().getAffineX(), 32));
        key.put(-3, unsigned(pub.getW().getAffineY(), 32));
      }
      case RS256 -> {
        RSAPublicKey pub = (RSAPublicKey) keyPair.getPublic();
        key.put(1, 3);
        key.put(3, coseAlg);
        key.put(-1, unsigned(pub.getModulus(), 0));
        key.put(-2, unsigned(pub.getPublicExponent(), 0));
      }
      case EDDSA -> {
        byte[] encoded = keyPair.getPublic().getEncoded(); // X.509: 12-byte prefix, then the 32-byte key
        key.put(1, 1);
        key.put(3, coseAlg);
        key.put(-1, 6);
        key.put(-2, Arrays.copyOfRange(encoded, encoded.length - 32, encoded.length));
      }
      default -> throw new IllegalStateException();
    }
    return Cbor.encode(key);
  }

  public static KeyPair generate(Alg alg) {
    try {
      return switch (alg) {
        case ES256 -> {
          KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
          g.initialize(new ECGenParameterSpec("secp256r1"));
          yield g.generateKeyPair();
        }
        case RS256 -> {
          KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
          g.initialize(2048);
          yield g.generateKeyPair();
        }
        case EDDSA -> KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
      };
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private static byte[] sign(KeyPair keyPair, Alg alg, byte[] data, boolean corrupt) {
    try {
      Signature s = Signature.getInstance(switch (alg) {
        case ES256 -> "SHA256withECDSA"; // ASN.1 DER, as WebAuthn §6.5.6 requires
        case RS256 -> "SHA256withRSA";
        case EDDSA -> "Ed25519";
      });
      s.initSign(keyPair.getPrivate());
      s.update(data);
      byte[] signature = s.sign();
      if (corrupt) {
        signature[signature.length - 1] ^= 0x01;
      }
      return signature;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private static byte[] unsigned(BigInteger value, int length) {
    byte[] bytes = value.toByteArray();
    if (bytes.length > 1 && bytes[0] == 0) {
      bytes = Arrays.copyOfRange(bytes, 1, bytes.length);
    }
    if (length == 0 || bytes.length == length) {
      return bytes;
    }
    byte[] out = new byte[length];
    System.arraycopy(bytes, 0, out, length - bytes.length, bytes.length);
    return out;
  }

  private static byte[] randomId() {
    byte[] id = new byte[20];
    new java.security.SecureRandom().nextBytes(id);
    return id;
  }

  private static byte[] uuidBytes(UUID uuid) {
    return ByteBuffer.allocate(16).putLong(uuid.getMostSignificantBits()).putLong(uuid.getLeastSignificantBits())
        .array();
  }

  static byte[] sha256(byte[] data) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(data);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] out = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
