-- Webhooks: endpoints an operator registers, and one delivery per event and endpoint, written in the same
-- transaction as the change that caused it (by a trigger on the audit log: no extra round trip for the feature)
-- and sent from here with retries (the sender claims rows with FOR UPDATE SKIP LOCKED, like the email outbox).
CREATE TABLE webhook_endpoints (
    id          uuid PRIMARY KEY,
    url         text        NOT NULL,
    events      text[]      NOT NULL DEFAULT '{}', -- empty: every event
    secret      text        NOT NULL,              -- the whsec_ secret, sealed (AES-GCM) under the master key
    enabled     boolean     NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now(),
    -- Rotation with overlap: the previous secret also signs (a second v1 signature) until then.
    previous_secret  text,
    previous_until   timestamptz,
    disabled_reason  text -- why Sesame disabled it (deliveries failed for 3 days), or NULL
);

CREATE TABLE webhook_deliveries (
    id               bigserial PRIMARY KEY,
    endpoint_id      uuid        NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    message_id       text        NOT NULL, -- webhook-id: the same for every attempt (receivers de-duplicate on it)
    event_type       text        NOT NULL,
    user_id          uuid,                 -- deliveries of one person to one endpoint go out in order
    payload          jsonb       NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    status           text        NOT NULL DEFAULT 'pending', -- pending, delivered, failed (gave up)
    attempts         integer     NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    last_status      integer,              -- the receiver's HTTP status, if it answered
    last_error       text,
    delivered_at     timestamptz
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_order_idx ON webhook_deliveries (endpoint_id, user_id, id) WHERE status = 'pending';

-- Audit event → webhook event. Payloads carry ids and the event's non-secret details only.
CREATE FUNCTION enqueue_webhooks() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  event text := CASE NEW.type
    WHEN 'user.created' THEN 'user.created'
    WHEN 'user.created_by_admin' THEN 'user.created'
    WHEN 'user.updated' THEN 'user.updated'
    WHEN 'user.email_changed' THEN 'user.updated'
    WHEN 'user.erased' THEN 'user.deleted'
    WHEN 'user.disabled' THEN 'user.disabled'
    WHEN 'passkey.sign_in.succeeded' THEN 'signin.succeeded'
    WHEN 'email.sign_in.succeeded' THEN 'signin.succeeded'
    WHEN 'passkey.sign_in.failed' THEN 'signin.failed'
    WHEN 'email.sign_in.failed' THEN 'signin.failed'
    WHEN 'passkey.added' THEN 'passkey.added'
    WHEN 'passkey.removed' THEN 'passkey.removed'
    WHEN 'session.revoked' THEN 'session.revoked' -- incl. reason refresh_token_reuse: one event per session
    WHEN 'email.delivery_failed' THEN 'email.delivery_failed'
  END;
BEGIN
  IF event IS NULL THEN
    RETURN NULL;
  END IF;
  INSERT INTO webhook_deliveries (endpoint_id, message_id, event_type, user_id, payload)
  SELECT e.id, 'msg_' || NEW.id, event, NEW.user_id,
         jsonb_build_object('type', event, 'timestamp', to_char(NEW.occurred_at AT TIME ZONE 'UTC',
                                                                 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                            'data', jsonb_strip_nulls(jsonb_build_object(
                              'userId', NEW.user_id, 'sessionId', NEW.session_id, 'auditEvent', NEW.type,
                              'actor', NEW.actor,
                              'reason', NEW.details->>'reason',
                              'method', CASE WHEN NEW.type LIKE 'passkey.sign_in.%' THEN 'passkey'
                                             WHEN NEW.type LIKE 'email.sign_in.%'
                                               THEN 'email_' || coalesce(NEW.details->>'method', 'link') END,
                              'passkeyId', NEW.details->>'passkeyId',
                              'provider', NEW.details->>'provider',
                              'outboxId', NEW.details->'outboxId', 'attempts', NEW.details->'attempts')))
  FROM webhook_endpoints e
  WHERE e.enabled AND (cardinality(e.events) = 0 OR event = ANY (e.events));
  RETURN NULL;
END $$;

CREATE TRIGGER audit_events_webhooks AFTER INSERT ON audit_events FOR EACH ROW
  WHEN (NEW.type IN ('user.created', 'user.created_by_admin', 'user.updated', 'user.email_changed', 'user.erased',
                     'user.disabled', 'passkey.sign_in.succeeded', 'email.sign_in.succeeded',
                     'passkey.sign_in.failed', 'email.sign_in.failed', 'passkey.added', 'passkey.removed',
                     'session.revoked', 'email.delivery_failed'))
  EXECUTE FUNCTION enqueue_webhooks();
