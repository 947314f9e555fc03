// The folder picker's and its error box's titles come from the window, in the UI language
// the user chose there. They are only titles, but still checked at this trust boundary:
// anything that is not a short string falls back to English.
import { z } from 'zod';

const LABEL = z.string().trim().min(1).max(200);

export const ChooseProjectLabelsSchema = z.object({ title: LABEL, cannotOpen: LABEL });
export type ChooseProjectLabels = z.infer<typeof ChooseProjectLabelsSchema>;

export const ENGLISH_CHOOSE_PROJECT_LABELS: ChooseProjectLabels = {
  title: 'Choose a project folder (one subfolder per class)',
  cannotOpen: 'Cannot open this folder',
};

export function chooseProjectLabels(untrusted: unknown): ChooseProjectLabels {
  const parsed = ChooseProjectLabelsSchema.safeParse(untrusted);
  return parsed.success ? parsed.data : ENGLISH_CHOOSE_PROJECT_LABELS;
}
