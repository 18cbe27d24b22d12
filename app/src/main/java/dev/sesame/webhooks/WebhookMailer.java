package dev.sesame.webhooks;

import dev.sesame.email.Mailer;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Map;
import org.jdbi.v3.core.Jdbi;

/**
 * {@code SESAME_EMAIL_DELIVERY=webhook}: instead of SMTP, each message becomes an {@code email.send} webhook to the
 * endpoints that name that event (never to "all events" endpoints: it carries a live code and link), for teams that
 * send mail through their own provider. The delivery keeps the outbox message's id ({@code msg_email_<id>}), so a
 * message handed over twice (a node dying at the wrong moment) has one webhook-id. No such endpoint: the message
 * waits and is retried like any undeliverable mail, until it expires.
 */
public final class WebhookMailer implements Mailer {
  public static final String EVENT = "email.send";
  private static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper();

  private final Jdbi jdbi;

  public WebhookMailer(Jdbi jdbi) {
    this.jdbi = jdbi;
  }

  @Override
  public void send(OutgoingEmail email) throws MailException {
    throw new MailException("email.send needs the outbox message's id", null);
  }

  @Override
  public void send(long outboxId, OutgoingEmail email) throws MailException {
    String payload;
    try {
      payload = JSON.writeValueAsString(Map.of("type", EVENT,
          "timestamp", Instant.now().truncatedTo(ChronoUnit.MILLIS).toString(),
          "data", Map.of("to", email.recipient(), "subject", email.subject(), "text", email.textBody(),
              "html", email.htmlBody() == null ? "" : email.htmlBody())));
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new MailException("cannot write the message as JSON", e);
    }
    String messageId = "msg_email_" + outboxId;
    int queued = jdbi.withHandle(h -> h.createUpdate("""
            INSERT INTO webhook_deliveries (endpoint_id, message_id, event_type, payload)
            SELECT e.id, :messageId, :event, CAST(:payload AS jsonb) FROM webhook_endpoints e
            WHERE e.enabled AND :event = ANY (e.events)
              AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.endpoint_id = e.id
                              AND d.message_id = :messageId)""")
        .bind("messageId", messageId).bind("event", EVENT).bind("payload", payload).execute());
    boolean handedOver = queued > 0 || jdbi.withHandle(h -> h.createQuery(
            "SELECT EXISTS (SELECT 1 FROM webhook_deliveries WHERE message_id = :messageId)")
        .bind("messageId", messageId).mapTo(Boolean.class).one());
    if (!handedOver) {
      throw new MailException("SESAME_EMAIL_DELIVERY=webhook, but no enabled webhook endpoint asks for email.send "
          + "(java -jar sesame.jar webhook create URL --events email.send)", null);
    }
  }

  /**
   * Forgets the messages to {@code email} still waiting as {@code email.send} deliveries (erasing a person): they hold
   * the address and a live code. Delivered ones keep no message already.
   */
  public static void forget(org.jdbi.v3.core.Handle h, String email) {
    h.createUpdate("""
            DELETE FROM webhook_deliveries
            WHERE event_type = 'email.send' AND lower(payload->'data'->>'to') = lower(:email)""")
        .bind("email", email).execute();
  }
}
