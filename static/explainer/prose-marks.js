// Our editor extensions (explainer/rich_text.py). Marks for the inline tags our allowlist
// keeps (sanitize.py) that the editor has no button for: with them, opening a text that holds
// <q>, <cite> or <abbr> and saving it keeps them. And ordered lists without the list-style
// attributes the allowlist would remove on every save.
import { Extension, Mark, OrderedList } from "django-prose-editor/editor"

export const PlainOrderedList = OrderedList.configure({ enableListAttributes: false }).extend({
  addAttributes() {
    return {}
  },
  addNodeView: null,
})

export const Quote = Mark.create({
  name: "quote",
  parseHTML() {
    return [{ tag: "q" }]
  },
  renderHTML() {
    return ["q", 0]
  },
})

export const Cite = Mark.create({
  name: "cite",
  parseHTML() {
    return [{ tag: "cite" }]
  },
  renderHTML() {
    return ["cite", 0]
  },
})

export const Abbr = Mark.create({
  name: "abbr",
  addAttributes() {
    return { title: { default: null } }
  },
  parseHTML() {
    return [{ tag: "abbr" }]
  },
  renderHTML({ HTMLAttributes }) {
    return ["abbr", HTMLAttributes, 0]
  },
})

// The editable area is named by the form field's own label and described by its help text,
// as the text area it replaces was: without them a screen reader meets an unnamed text box.
export const FieldLabel = Extension.create({
  name: "fieldLabel",
  onCreate() {
    const area = this.editor.view.dom
    const textarea = area.closest(".prose-editor")?.querySelector("textarea")
    if (!textarea?.id) return
    const label = document.querySelector(`label[for="${textarea.id}"]`)
    if (label) {
      label.id ||= `${textarea.id}_label`
      area.setAttribute("aria-labelledby", label.id)
    }
    const help = document.getElementById(`${textarea.id}_helptext`)
    if (help) area.setAttribute("aria-describedby", help.id)
  },
})
