import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

/** A new endpoint secret in the Standard Webhooks form: `whsec_` + base64 of 24 random bytes. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(24).toString('base64')}`;
}

/**
 * The Standard Webhooks headers of one attempt: `webhook-id` (the message's, the same on every
 * attempt), `webhook-timestamp` (this attempt's, seconds) and `webhook-signature` (`v1,` +
 * base64 HMAC-SHA256 of `id.timestamp.body` with the secret's key).
 */
export function signedHeaders(
  secret: string,
  messageId: string,
  body: string,
  at = new Date(),
): Record<string, string> {
  const signature = new Webhook(secret).sign(messageId, at, body);
  return {
    'content-type': 'application/json',
    'webhook-id': messageId,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': signature,
  };
}
