import { stopSharedTestCluster } from '../helpers/topology.js';

/** Root hook: the shared test cluster (TEST_REDIS_TOPOLOGY=cluster) stops after the last test. */
export const mochaHooks = {
  async afterAll() {
    await stopSharedTestCluster();
  },
};
