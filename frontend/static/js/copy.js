// A read-only field holding a secret or a link, and its Copy button.

/** Show `value` in `input` (selected) and make `button` copy it. */
export function offerCopy(input, button, value) {
  input.value = value;
  input.closest("[hidden]")?.removeAttribute("hidden");
  input.select();
  button.onclick = async () => {
    input.select();
    try {
      await navigator.clipboard.writeText(input.value);
      button.textContent = "Copied";
    } catch {
      button.textContent = "Press Ctrl+C"; // no clipboard permission: the text is selected
    }
  };
}
