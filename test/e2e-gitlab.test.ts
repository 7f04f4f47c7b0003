// The generated repository end to end, native mode, its git host gitlab reached through a Cloud Build
// connection: test/support/e2e.ts says what is proven and how. The other mode is e2e-github.test.ts.
import { endToEnd } from './support/e2e.js';

endToEnd('native');
