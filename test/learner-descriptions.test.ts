// The learner descriptions the Settings screen shows: one per learner, and the finetune cost
// quotes measured figures only once they are filled in.
import { describe, expect, it } from 'vitest';
import { FINETUNE_MEASURED, finetuneCost, LEARNER_DESCRIPTIONS, learnerDescriptionsFor } from '../main/engine/learners/descriptions.js';
import { learnerIds } from '../main/engine/learners/registry.js';

describe('learner descriptions', () => {
  it('describe every registered learner, and finetune', () => {
    for (const id of [...learnerIds, 'finetune']) {
      expect(LEARNER_DESCRIPTIONS[id]?.summary, id).toMatch(/\w/);
      expect(LEARNER_DESCRIPTIONS[id]?.cost, id).toMatch(/\w/);
    }
    expect(Object.keys(learnerDescriptionsFor(['analytic', 'no-such-learner', 'toString']))).toEqual(['analytic']);
  });

  it('say what finetune costs, with measured figures only when they are set', () => {
    const cost = LEARNER_DESCRIPTIONS.finetune!.cost;
    expect(cost).toMatch(/fine-tunes the backbone's last block on cached activations/i);
    expect(cost).toMatch(/much longer than with analytic/);
    expect(cost).toMatch(/about 9 KB per image instead of 5 KB/);
    expect(FINETUNE_MEASURED).toEqual({ updateTimeRatio: null, drawingGainPoints: null });
    expect(cost).not.toMatch(/×|points/);

    const measured = finetuneCost({ updateTimeRatio: 12.4, drawingGainPoints: 6.25 });
    expect(measured).toMatch(/about 12× as long, measured/);
    expect(measured).toMatch(/\+6\.3 points against analytic/);
    expect(finetuneCost({ updateTimeRatio: 3.25, drawingGainPoints: -1 })).toMatch(/about 3\.3× as long.*−1\.0 points/);
  });
});
