// The annotator's key bindings and pointer gestures, as the `?` sheet lists them. The page
// passes its actions in; a viewer's editing keys are refused here, with the reason, before
// any request.
import { deniedReason } from "./access.js";
import { bind, gesture } from "./keyboard.js";

/** a: the page's actions ({canLabel, accept, cycleCandidate(step), clear, undoStep,
 * redoStep, polygonOn, removeVertex, deleteSelected, openImage(step), toggleAuto, fit,
 * setTool(name), resizeBrush(factor), fillSelectedHoles, startMerge, pickDigit(k)}). */
export function bindAnnotatorKeys(a) {
  const denied = () =>
    a.canLabel() ? null : deniedReason(document.body.dataset.role, "annotator");
  const editing = { denied };
  bind("Enter", "Accept the mask as a segment with the current label", a.accept, editing);
  bind("Tab", "Next candidate mask", () => a.cycleCandidate(1));
  bind("shift+Tab", "Previous candidate mask", () => a.cycleCandidate(-1));
  bind("Escape", "Clear prompts (and the selection, a merge or a tool)", a.clear);
  bind(["ctrl+z"], "Undo (prompts and segments)", a.undoStep);
  bind(["ctrl+shift+z", "ctrl+y"], "Redo", a.redoStep);
  bind(
    ["Delete", "Backspace"],
    "Polygon on: delete the selected vertex (never the segment)",
    a.removeVertex,
    { when: a.polygonOn, ...editing },
  );
  bind(["Delete", "Backspace"], "Delete the selected segment", a.deleteSelected, editing);
  bind(["ArrowRight", "n"], "Next image", () => a.openImage(1));
  bind(["ArrowLeft", "p"], "Previous image", () => a.openImage(-1));
  bind("v", "Show or hide automatic segments", a.toggleAuto);
  bind("f", "Fit the image to the window", a.fit);
  bind("b", "Brush: paint onto the selected segment (drag)", () => a.setTool("brush"), editing);
  bind("e", "Eraser: remove from the selected segment (drag)", () => a.setTool("eraser"), editing);
  bind("[", "Smaller brush or eraser", () => a.resizeBrush(0.8));
  bind("]", "Larger brush or eraser", () => a.resizeBrush(1.25));
  bind("h", "Fill the holes of the selected segment", a.fillSelectedHoles, editing);
  bind("m", "Merge: then Ctrl+click the segment to add to the selected one", a.startMerge, editing);
  bind("s", "Split: then drag a line across the selected segment", () => a.setTool("cut"), editing);
  bind(
    "o",
    "Polygon: edit the selected segment's outline vertex by vertex",
    () => a.setTool("polygon"),
    editing,
  );
  gesture("click", "Positive point (ask SAM for a mask)");
  gesture(["right-click", "alt+click"], "Negative point");
  gesture("drag", "Box prompt (with brush or eraser on: paint)");
  gesture("ctrl+click", "Select the segment under the pointer (click again to deselect)");
  gesture("wheel", "Zoom at the pointer");
  gesture("drag a vertex", "Polygon on: move it (click an edge adds one)");
  gesture(["alt+click", "right-click"], "Polygon on: remove the vertex under the pointer");
  gesture(["space+drag", "middle-drag"], "Pan");
  for (let k = 1; k <= 9; k++) {
    bind(String(k), "Pick label 1-9 (relabels the selected segment)", () => a.pickDigit(k), {
      hidden: k > 1,
    });
  }
}
