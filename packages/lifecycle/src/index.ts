export { onShutdownSignal, type ShutdownOptions } from './shutdown.handler.ts';
