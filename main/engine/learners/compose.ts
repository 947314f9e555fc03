// Composition of a core learner with plugins (Avalanche's strategy + plugins): the composed
// learner runs each plugin's hooks at fixed points around the core's update and predict, and
// keeps the plugins' states next to the core state so that they persist and roll back together.
//
//   update:  beforeUpdate (raw features, plugin order) → adaptFeatures → core.update → afterUpdate
//   predict: adaptFeatures → core.predict → adaptScores
//
// beforeUpdate sees raw backbone features, so anything a plugin stores (e.g. replay exemplars)
// is independent of how later plugins transform features.
//
// These are the strategy-level points every learner has. A gradient-trained core (replay) adds
// its own training-loop points (per epoch, extra loss terms for distillation) as further optional
// LearnerPlugin members that only it calls; callers still see one Learner and never change.

import { decodeContainer, encodeContainer, headerField, isFiniteNumber, isString, isStringArray, StateFormatError } from './codec.js';
import {
  LearnerInputError, type LabeledFeatures, type Learner, type LearnerPlugin, type LearnerState, type TrainingDelta,
} from './learner.js';

export interface ComposedState<S extends LearnerState = LearnerState> extends LearnerState {
  readonly core: S;
  /** One entry per plugin, in composition order; undefined for plugins that keep no state. */
  readonly pluginStates: readonly unknown[];
}

// Plugins' state types differ per plugin; the composition only moves them around.
type AnyPlugin = LearnerPlugin<any>;

export function withPlugins<S extends LearnerState>(
  id: string,
  core: Learner<S>,
  plugins: readonly AnyPlugin[],
): Learner<ComposedState<S>> {
  const pluginIds = plugins.map((p) => p.id);
  if (new Set(pluginIds).size !== pluginIds.length) throw new Error(`learner "${id}" lists a plugin twice`);

  /** `handedOver`: the caller's array may be overwritten; a plugin's own output always may. */
  const adaptFeatures = (features: Float32Array, count: number, dim: number, handedOver = false): { features: Float32Array; dim: number } => {
    let current = { features, dim };
    for (const plugin of plugins) {
      if (plugin.adaptFeatures) current = plugin.adaptFeatures(current.features, count, current.dim, handedOver || current.features !== features);
    }
    return current;
  };
  const adaptLabeled = (part: LabeledFeatures): LabeledFeatures => {
    const { features, dim } = adaptFeatures(part.features, part.count, part.dim, part.handedOver === true);
    return { features, dim, labels: part.labels, count: part.count, ...(part.keys ? { keys: part.keys } : {}) };
  };

  const assertOwn = (state: LearnerState): ComposedState<S> => {
    if (state.learnerId !== id) throw new LearnerInputError(`state of "${state.learnerId}" given to learner "${id}"`);
    return state as ComposedState<S>;
  };

  const learner: Learner<ComposedState<S>> = {
    id,
    defaultHyperParameters: core.defaultHyperParameters,

    async update(previous, delta, context = {}) {
      if (previous) assertOwn(previous);
      let training: TrainingDelta = delta;
      for (const [i, plugin] of plugins.entries()) {
        if (!plugin.beforeUpdate) continue;
        training = await plugin.beforeUpdate(training, { learner, previous, pluginState: previous?.pluginStates[i] }, context);
        if (!sameNames(training.classNames, delta.classNames)) {
          throw new Error(`plugin "${plugin.id}" changed the class list, which belongs to the caller`);
        }
      }
      const coreState = await core.update(
        previous?.core ?? null,
        { classNames: training.classNames, added: adaptLabeled(training.added), removed: adaptLabeled(training.removed) },
        context,
      );
      const carried = plugins.map((_, i) => previous?.pluginStates[i]);
      const provisional: ComposedState<S> = { learnerId: id, classNames: coreState.classNames, core: coreState, pluginStates: carried };
      const pluginStates: unknown[] = [];
      for (const [i, plugin] of plugins.entries()) {
        pluginStates.push(
          plugin.afterUpdate
            ? await plugin.afterUpdate({ learner, previous, pluginState: carried[i], next: provisional, delta: training }, context)
            : carried[i],
        );
      }
      return Object.freeze({ learnerId: id, classNames: coreState.classNames, core: coreState, pluginStates: Object.freeze(pluginStates) });
    },

    async predict(state, features, count) {
      const own = assertOwn(state);
      const adapted = adaptFeatures(features, count, count === 0 ? 0 : features.length / count);
      let scores = await core.predict(own.core, adapted.features, count);
      for (const [i, plugin] of plugins.entries()) {
        if (plugin.adaptScores) scores = plugin.adaptScores(scores, count, own.classNames, own.pluginStates[i]);
      }
      return scores;
    },

    classNames: (state) => assertOwn(state).classNames,

    exportScores(state, graph, features, dim) {
      const own = assertOwn(state);
      let current = { value: features, dim };
      for (const plugin of plugins) {
        if (!plugin.adaptFeatures) continue;
        if (!plugin.exportFeatures) throw new Error(`plugin "${plugin.id}" has no graph form, so "${id}" cannot be exported`);
        current = plugin.exportFeatures(graph, current.value, current.dim);
      }
      let scores = core.exportScores(own.core, graph, current.value, current.dim);
      for (const [i, plugin] of plugins.entries()) {
        if (!plugin.adaptScores) continue;
        if (!plugin.exportScores) throw new Error(`plugin "${plugin.id}" has no graph form, so "${id}" cannot be exported`);
        scores = plugin.exportScores(graph, scores, own.classNames, own.pluginStates[i]);
      }
      return scores;
    },

    ...(core.bufferedSamples ? { bufferedSamples: (state: ComposedState<S>) => core.bufferedSamples!(assertOwn(state).core) } : {}),

    serialize(state) {
      const own = assertOwn(state);
      const stored = plugins.map((plugin, i) => {
        const value = own.pluginStates[i];
        if (value === undefined) return null;
        if (!plugin.encodeState) throw new Error(`plugin "${plugin.id}" keeps state but cannot encode it`);
        return plugin.encodeState(value);
      });
      return encodeContainer(
        { learnerId: id, format: 1, plugins: pluginIds, pluginStateSections: stored.map((s) => (s ? 1 : 0)) },
        [core.serialize(own.core), ...stored.filter((s): s is Uint8Array => s !== null)],
      );
    },

    deserialize(bytes) {
      const { header, sections } = decodeContainer(bytes);
      if (headerField(header, 'learnerId', isString) !== id) throw new StateFormatError(`not a state of learner "${id}"`);
      if (headerField(header, 'format', isFiniteNumber) !== 1) throw new StateFormatError('unknown learner state format');
      // The same recipe must read the state back, or predictions would silently differ.
      if (!sameNames(headerField(header, 'plugins', isStringArray), pluginIds)) {
        throw new StateFormatError(`state of "${id}" was made with different plugins`);
      }
      const present = headerField(header, 'pluginStateSections', (v): v is number[] => Array.isArray(v) && v.length === plugins.length);
      const [coreSection, ...rest] = sections;
      if (!coreSection || rest.length !== present.filter(Boolean).length) throw new StateFormatError('learner state has the wrong sections');
      const coreState = core.deserialize(coreSection);
      let next = 0;
      const pluginStates = plugins.map((plugin, i) => {
        if (!present[i]) return undefined;
        if (!plugin.decodeState) throw new StateFormatError(`plugin "${plugin.id}" cannot decode its state`);
        return plugin.decodeState(rest[next++]!);
      });
      return Object.freeze({ learnerId: id, classNames: coreState.classNames, core: coreState, pluginStates: Object.freeze(pluginStates) });
    },
  };
  return Object.freeze(learner);
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((name, i) => name === b[i]);
}
