import { defineMessages } from '../define.js';

// What each learner does and costs, as Settings shows it. The English is the engine's own text
// (main/engine/learners/descriptions.ts, which the docs quote); test/i18n-catalog.test.ts keeps
// the two identical, so a change there must be made here too, in both languages.
export const learners = defineMessages(
  {
    'learner.analytic.summary':
      "Exact ridge-regression head on the frozen backbone's features: every update gives the model that training on all current samples at once would give, so it forgets nothing by construction. The default.",
    'learner.analytic.cost':
      'Fast: solved in closed form from cached embeddings, with no gradient steps (about 0.7 s for a 100-class model on 2 cores). Caches about 5 KB per image, its embedding.',
    'learner.ncm.summary':
      'Nearest class mean: each class is the mean of its normalized features, and an image scores its cosine similarity to each mean. The simple baseline.',
    'learner.ncm.cost':
      'The cheapest update (it only adds to per-class sums) and the smallest state, but the lowest accuracy: 0.97× of analytic on Caltech-101, 0.87× on CIFAR-10.',
    'learner.replay.summary':
      'A small head trained by gradient descent on the new images plus a few stored exemplars of every class, with distillation so old predictions stay steady. Optionally with a hidden layer.',
    'learner.replay.cost':
      "Slower than analytic: each update runs epochs of training over the new images and the replay buffer (20 exemplars per class by default, see Replay budget), stored with every version. Its accuracy on the benchmarks is within about a point of analytic's, above or below.",
    'learner.finetune.summary':
      "Trains the backbone's top layers (its last block and last 1×1 convolution) with the head, so the features themselves adapt: for new looks far from the photos the backbone was trained on, such as drawings.",
    'learner.finetune.cost':
      "Fine-tunes the backbone's last block on cached activations, then refits an exact ridge head on the tuned features. Updates take much longer than with analytic: about 30 s of training per 1,000 new images on 2 cores (analytic: under a second for any update), and it caches about 9 KB per image instead of 5 KB; a replay buffer of these activations (up to {bufferMegabytes} MB by default) is kept with each version. Measured: +3.0 points over analytic on synthetic line drawings learned after photos, photos and Caltech-101 unchanged (within a point).",
  },
  {
    'learner.analytic.summary':
      '固定したバックボーンの特徴量の上で、リッジ回帰のヘッドを厳密に解きます。どの更新でも、現在のすべてのサンプルで一度に学習した場合と同じモデルになるため、仕組みの上で何も忘れません。既定の学習器です。',
    'learner.analytic.cost':
      '高速: キャッシュした埋め込みから閉じた形で解くため、勾配ステップはありません(2 コアで 100 クラスのモデルに約 0.7 秒)。画像 1 枚につき約 5 KB(その埋め込み)をキャッシュします。',
    'learner.ncm.summary':
      '最近傍クラス平均: 各クラスを正規化した特徴量の平均で表し、画像はそれぞれの平均とのコサイン類似度で採点されます。単純なベースラインです。',
    'learner.ncm.cost':
      '更新が最も安く(クラスごとの合計に足すだけ)、状態も最も小さい一方、精度は最も低くなります: Caltech-101 で analytic の 0.97 倍、CIFAR-10 で 0.87 倍。',
    'learner.replay.summary':
      '新しい画像と、各クラスについて保存した少数の見本とで、小さなヘッドを勾配降下で学習します。蒸留により以前の予測を安定させます。隠れ層を加えることもできます。',
    'learner.replay.cost':
      'analytic より遅くなります: 更新のたびに、新しい画像とリプレイバッファー(既定でクラスごとに 20 個の見本。「リプレイ予算」を参照)で何エポックも学習し、バッファーは各バージョンと一緒に保存されます。ベンチマークでの精度は analytic とおおむね 1 ポイント以内(上下どちらも)です。',
    'learner.finetune.summary':
      'バックボーンの上位層(最後のブロックと最後の 1×1 畳み込み)をヘッドと一緒に学習し、特徴量そのものを適応させます。線画のように、バックボーンの学習に使われた写真から遠い新しい見た目に向いています。',
    'learner.finetune.cost':
      'キャッシュした活性化でバックボーンの最後のブロックを微調整し、その特徴量でリッジ回帰のヘッドを厳密に解き直します。更新は analytic よりずっと長くかかります: 2 コアで新しい画像 1,000 枚につき約 30 秒の学習(analytic はどの更新でも 1 秒未満)。キャッシュは画像 1 枚につき 5 KB ではなく約 9 KB になり、これらの活性化のリプレイバッファー(既定で最大 {bufferMegabytes} MB)が各バージョンと一緒に保存されます。計測結果: 写真の後に学習した合成の線画では analytic より +3.0 ポイント、写真と Caltech-101 では変わりません(1 ポイント以内)。',
  },
);
