// Choosing a profile lives in the core beside the lifecycle (../profile.ts); kept here for the v2 index.
export * from "../profile.js";
