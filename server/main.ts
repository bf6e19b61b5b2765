// Entry point of the server process (`npm start` runs it through scripts/start.mjs; a
// container runs it directly). Everything it does is in launch.ts.
import { launch } from './launch';

void launch();
