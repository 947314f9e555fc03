export const USAGE = `keizoku — teach an image classifier new classes on this machine, without forgetting the old ones

Usage: keizoku <command> --root DIR [options]

Commands:
  update              learn new classes and samples from DIR (one subfolder per class)
  eval --data DATA    accuracy of the current model on a separate labeled folder (same layout)
  predict FILE...     top classes for each image
  watch               embed files as they land in DIR, so the next update only trains (Ctrl-C ends)
  versions            list model versions (* = current)
  rollback N          make version N current again
  export --out F.onnx the current model as one ONNX file (backbone + head + softmax) and labels.json beside it
  review              held-out images the current model gets wrong, and training images whose label
                      it doubts (judged out of sample); with the recent moves and exclusions
  move PATH CLASS     move a sample (path relative to DIR) into another class folder; never overwrites
  undo-move N         put moved file N back (numbers: see review)
  exclude PATH        leave a sample out of training from the next update on
  include PATH        undo exclude
  backbones           list the backbone catalog (* = default)
  serve               the app's UI and API over HTTP for a browser (headless; Ctrl-C ends)
  fleet join --broker URL --fleet NAME [--device ID]
                      share learning statistics (never images) with other devices through an
                      MQTT broker; every update then publishes this device's and merges the rest
  fleet leave         leave the fleet (and remove this device's statistics from the broker)
  fleet status        the fleet's devices, their classes and sample counts, when last heard from
  fleet aggregate --broker URL --fleet NAME [--every SECONDS]
                      (no --root) sum every device's statistics and publish the fleet sum, so
                      devices joined with --via-aggregator fetch one message instead of N; once,
                      or with --every a round every SECONDS (publishing only when a device's
                      message changed) until Ctrl-C

Options:
  --root DIR              the project folder
  --state DIR             where state lives (default DIR/.keizoku)
  --json                  print exactly one JSON object on stdout (progress stays on stderr)
  --backbone ID|PATH      catalog id or an .onnx file (default: mobilenet-v2-1.0-224-quant)
  --feature-output NAME   for an .onnx backbone: the output holding [N,D] features
  --model-dir DIR         local mirror of backbone files (also KEIZOKU_MODEL_DIR)
  --no-download           never download a backbone
  --device auto|cpu|cuda|dml|coreml|webgpu   (default auto: the platform's GPU, else CPU)
  --learner analytic|ncm|replay|finetune  (default analytic)
  --held-out F            fraction of each class held out for evaluation (default 0.2)
  --replay-per-class N    exemplars kept per class in the replay buffer (default 20)
  --replay-megabytes MB   replay learner: buffer budget in MB, exemplars and class statistics
                          together; the per-class share shrinks as classes are added (default 0: off)
  --top K                 predict: how many classes to show (default 5)
  --limit N               review: at most N entries per list (default 50)
  --out F.onnx            export: the model file to write (never inside a class folder)
  --force                 export: replace files at --out that Keizoku did not write
  --port N                serve: TCP port (default 7720; 0 picks a free one)
  --host ADDR             serve: address to bind (default 127.0.0.1; any other needs --token)
  --token SECRET          serve: access token (16+ characters) required by every API call;
                          visible in ps, so prefer one of:
  --token-file FILE       serve: the token is FILE's first line (a regular file; chmod 600)
                          (or set KEIZOKU_TOKEN; --token and --token-file win over it)

Fleet options (join):
  --broker URL            mqtt://HOST:1883 or mqtts://HOST:8883 (TLS)
  --fleet NAME            the fleet (letters, digits, _ - .)
  --device ID             this device's name in the fleet (default: host name + random suffix)
  --credentials-file F    F's first line is the broker username, the second the password;
                          else KEIZOKU_FLEET_USERNAME / KEIZOKU_FLEET_PASSWORD (never in argv)
  --tls-ca F, --tls-cert F, --tls-key F   PEM files for mqtts:// (private CA, client certificates)
  --dp-epsilon E --dp-delta D   add Gaussian noise to what this device publishes ((E, D)-DP per publish)
  --via-aggregator        read the others from the aggregator's fleet sum when it holds this device

Exit codes: 0 done (unusable files are listed, not fatal), 2 bad invocation, 1 unusable state, 130 cancelled.
`;
