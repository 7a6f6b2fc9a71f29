export * from './codes.js';
export * from './crossbus-error.js';
