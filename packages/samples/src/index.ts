export { sampleProviders, startSampleServer, type SampleServer } from './sample.server.ts';
