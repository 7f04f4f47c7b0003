// The generated repository end to end, token mode, its git host github reached through a Cloud Build
// connection: test/support/e2e.ts says what is proven and how. The other mode is e2e-gitlab.test.ts.
import { endToEnd } from './support/e2e.js';

endToEnd('token');
