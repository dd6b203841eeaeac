import { test } from '@playwright/test';
import { bootAndMeetPartner } from './pair.js';

// Both files boot the same demo at once, in two workers.
test('boot tiny in worker a', () => bootAndMeetPartner('a', 'b'));
