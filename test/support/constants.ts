/** Shared by the Node-side config and the workerd tests; a test-only secret. */
export const TEST_JWT_SECRET = "test-secret-0123456789abcdefghijklmnopqrstuvwxyz";
