// The learner descriptions the Settings screen shows: one per registered learner, and finetune's
// says what it costs against analytic.
import { describe, expect, it } from 'vitest';
import { LEARNER_DESCRIPTIONS, learnerDescriptionsFor } from '../main/engine/learners/descriptions.js';
import { learnerIds } from '../main/engine/learners/registry.js';

describe('learner descriptions', () => {
  it('describe every registered learner', () => {
    for (const id of learnerIds) {
      expect(LEARNER_DESCRIPTIONS[id]?.summary, id).toMatch(/\w/);
      expect(LEARNER_DESCRIPTIONS[id]?.cost, id).toMatch(/\w/);
    }
    expect(Object.keys(learnerDescriptionsFor(['analytic', 'no-such-learner', 'toString']))).toEqual(['analytic']);
  });

  it('say what finetune costs against analytic', () => {
    const cost = LEARNER_DESCRIPTIONS.finetune!.cost;
    expect(cost).toMatch(/fine-tunes the backbone's last block on cached activations/i);
    expect(cost).toMatch(/much longer than with analytic/);
    expect(cost).toMatch(/about 9 KB per image instead of 5 KB/);
  });
});
