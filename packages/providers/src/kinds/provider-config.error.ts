/** A provider's stored config does not fit its kind: a permanent failure naming the fields. */
export class ProviderConfigError extends Error {
  override readonly name = 'ProviderConfigError';
}
