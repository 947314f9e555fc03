import { defineMessages } from '../define.js';

// Strings shared by several screens. Placeholders are {name}; plural forms are chosen by
// the caller (Japanese has none).
export const common = defineMessages(
  {
    'common.dismiss': 'Dismiss',
    'common.cancel': 'Cancel',
  },
  {
    'common.dismiss': '閉じる',
    'common.cancel': 'キャンセル',
  },
);
