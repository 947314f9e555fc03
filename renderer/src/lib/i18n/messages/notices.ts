import { defineMessages } from '../define.js';

// The toasts in the corner. An engine's own reason ({reason}) stays as the engine wrote it.
export const notices = defineMessages(
  {
    'notice.upToDate': 'Nothing new to learn: the current version is up to date.',
    'notice.versionReady': 'Version {id} is ready.',
    'notice.updateCancelled': 'Update cancelled. The previous version is still current.',
    'notice.updateFailed': 'Update failed: {reason}',
    'notice.copied.one': 'Copied {count} file into the project.',
    'notice.copied.other': 'Copied {count} files into the project.',
    'notice.copyFailed': 'Could not copy the files: {reason}',
    'notice.fileReason': '{path}: {reason}',
    'notice.exported': 'Exported version {id} as one ONNX file.',
    'notice.rolledBack': 'Version {id} is current again. The next update continues from it.',
    'notice.settingSaved': 'Saved. The next update uses the new setting.',
    'notice.backboneUnavailable': 'Backbone not available: {reason}',
    'notice.tooLarge': 'file too large (over 25 MB)',
    'notice.notUsable': 'not usable',
  },
  {
    'notice.upToDate': '新しく学習するものはありません。現在のバージョンが最新です。',
    'notice.versionReady': 'バージョン {id} の準備ができました。',
    'notice.updateCancelled': '更新をキャンセルしました。以前のバージョンがそのまま使われます。',
    'notice.updateFailed': '更新に失敗しました: {reason}',
    'notice.copied.one': '{count} 個のファイルをプロジェクトにコピーしました。',
    'notice.copied.other': '{count} 個のファイルをプロジェクトにコピーしました。',
    'notice.copyFailed': 'ファイルをコピーできませんでした: {reason}',
    'notice.fileReason': '{path}: {reason}',
    'notice.exported': 'バージョン {id} を 1 つの ONNX ファイルとして書き出しました。',
    'notice.rolledBack': 'バージョン {id} が再び現在のバージョンになりました。次の更新はここから続きます。',
    'notice.settingSaved': '保存しました。次の更新から新しい設定が使われます。',
    'notice.backboneUnavailable': 'バックボーンを利用できません: {reason}',
    'notice.tooLarge': 'ファイルが大きすぎます(25 MB 超)',
    'notice.notUsable': '使用できません',
  },
);
