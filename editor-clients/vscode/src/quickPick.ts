/** Waiting for one choice of a quick pick. */

import type * as vscode from "vscode";

/**
 * Show `quick` and resolve with the item accepted, or undefined when it is dismissed; the picker
 * is disposed once hidden. Its items may still be loading (`busy`): a dismissal then counts too.
 */
export function pickOne<T extends vscode.QuickPickItem>(quick: vscode.QuickPick<T>): Promise<T | undefined> {
  return new Promise<T | undefined>((resolve) => {
    quick.onDidAccept(() => {
      resolve(quick.selectedItems[0]);
      quick.hide();
    });
    quick.onDidHide(() => {
      resolve(undefined);
      quick.dispose();
    });
    quick.show();
  });
}
