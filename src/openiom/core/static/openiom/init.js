// Progressive enhancement: every page works without this file.
// GOV.UK Frontend styles its enhanced components only when the body has these classes; we add
// them here rather than with the usual inline snippet because the content security policy
// forbids inline scripts.
import { initAll } from '/static/vendor/govuk-frontend/govuk-frontend.min.js'

document.body.classList.add('js-enabled', 'govuk-frontend-supported')
initAll()
