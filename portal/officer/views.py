"""The officer's pages: the verification queue, items, decisions, address search."""
from __future__ import annotations

from urllib.parse import parse_qsl

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from portal import charts
from portal.access import officer_required
from portal.extensions import db
from portal.forms import AddressSearchForm, choices
from portal.officer.forms import (
    ConfirmCleanForm,
    ConfirmSelectedForm,
    DecisionForm,
    QualityPeriodForm,
    QueueFilterForm,
    RevealForm,
)
from portal.services import (
    addresses,
    anomalies,
    flags,
    jurisdiction,
    quality,
    queue,
    receipts,
    register,
    review,
    units,
)
from portal.services.errors import NotFound, ValidationFailed
from portal.templating import localtime
from portal.web import actor, errors_onto_form, id_arg

bp = Blueprint("officer", __name__, url_prefix="/officer")
QUEUE_ARGS = ("kind", "beat", "flagged", "late", "upload")


@bp.context_processor
def unit_names():
    return {"unit_type_names": units.UNIT_TYPE_NAMES, "special_trade_names": units.SPECIAL_TRADE_NAMES,
            "unit_status_names": units.UNIT_STATUS_NAMES}


def _item_or_404(submission_id: int):
    try:
        return queue.item(db.session, current_user, submission_id)
    except NotFound:
        abort(404)


@bp.route("/")
@officer_required
def home():
    """What waits for the officer: the queue, and how many rows each anomaly list holds."""
    return render_template("officer/home.html", where=jurisdiction.describe(current_user),
                           total=queue.open_count(db.session, current_user),
                           counts=anomalies.counts(db.session, current_user, cap=anomalies.HOME_CAP),
                           cap=anomalies.HOME_CAP, titles=anomalies.TITLES)


@bp.route("/anomalies/<kind>")
@officer_required
def anomaly_list(kind: str):
    """One anomaly list of the officer's own jurisdiction; only the page cursor comes from the request."""
    if kind not in anomalies.KINDS:
        abort(404)
    try:
        found = anomalies.page(db.session, current_user, kind, request.args.get("after"))
    except anomalies.BadCursor:
        flash(_l("That page link is not valid any more: here is the first page."), "error")
        found = anomalies.page(db.session, current_user, kind)
    return render_template("officer/anomalies.html", page=found, kind=kind, title=anomalies.TITLES[kind],
                           definition=anomalies.DEFINITIONS[kind], where=jurisdiction.describe(current_user),
                           first_page=not request.args.get("after"))


@bp.route("/queue")
@officer_required
def queue_view():
    form = QueueFilterForm(request.args)
    beats = jurisdiction.beats_for(db.session, current_user)
    form.beat.choices = choices([("", _l("All beats"))] + [(str(b.id), b.name) for b in beats])
    filters = queue.Filters()
    if form.validate():
        filters = queue.Filters(kind=form.kind.data or None,
                                beat_id=int(form.beat.data) if form.beat.data else None,
                                flagged_only=form.flagged.data, late_only=form.late.data)
    filters.staff_import_id = id_arg("upload")  # the rows of one staff-list upload
    page = queue.queue_page(db.session, current_user, filters, request.args.get("after"))
    args = {k: v for k, v in request.args.items() if k != "after"}
    return render_template("officer/queue.html", form=form, page=page, args=args,
                           where=jurisdiction.describe(current_user),
                           total=queue.open_count(db.session, current_user), flag_label=flags.label,
                           upload_id=filters.staff_import_id, filtered=filters != queue.Filters(),
                           names_in=queue.names_in, bulk_form=ConfirmSelectedForm())


@bp.route("/queue/confirm", methods=["POST"])
@officer_required
def confirm_selected():
    """Confirm the clean items ticked in the queue, each as if confirmed on its own page."""
    # Back to the queue as it was filtered: the filter's own fields only, rebuilt, never a raw URL.
    kept = {k: v for k, v in parse_qsl(request.form.get("back") or "") if k in QUEUE_ARGS}
    back = url_for("officer.queue_view", **kept)
    if not ConfirmSelectedForm().validate_on_submit():
        abort(400)
    selected = queue.parse_selection(request.form.getlist("item"))
    if not selected:
        flash(_l("Choose the items to confirm."), "error")
        return redirect(back)
    done = queue.confirm_selected(db.session, current_user, selected, actor())
    db.session.commit()
    flash(_l("%(n)d items confirmed.", n=done.confirmed), "success")
    for c in done.conflicts[:20]:
        flash(_l("%(receipt)s: %(who)s decided this item first (%(status)s, %(when)s). It was left as they "
                 "decided.", receipt=receipts.display(c.receipt), who=c.by or "—", status=review.status_label(c.status),
                 when=localtime(c.at) if c.at else "—"), "error")
    if done.not_clean:
        flash(_l("%(n)d items have flags or wait for a site visit: decide them one by one.", n=done.not_clean),
              "info")
    return redirect(back)


def _render_item(sub, form=None, revealed=None, status=200):
    return render_template(
        "officer/item.html", sub=sub, form=form or DecisionForm(version=sub.version), reveal_form=RevealForm(),
        history=queue.house_history(db.session, sub), decisions=review.history(db.session, sub.id),
        elsewhere=queue.other_tenancies(db.session, sub), revealed=revealed or {}, flag_label=flags.label,
        reasons=review.REJECT_REASONS, unit=queue.unit_of_item(db.session, sub),
        other_jobs=queue.other_employments(db.session, sub),
        # A house or unit elsewhere is named only as outside the jurisdiction, as on the register's person page.
        own_beats=set(jurisdiction.beat_ids_for(db.session, current_user)),
        in_register=queue.register_entries(db.session, sub),
        links=register.links_for_item(db.session, current_user, sub),
        rival_claims=register.claims_for_item(db.session, current_user, sub)), status


@bp.route("/items/<int:submission_id>")
@officer_required
def item(submission_id: int):
    try:
        sub = queue.view_item(db.session, current_user, submission_id, actor())
    except NotFound:
        abort(404)
    db.session.commit()
    return _render_item(sub)


@bp.route("/items/<int:submission_id>/decide", methods=["POST"])
@officer_required
def decide(submission_id: int):
    sub = _item_or_404(submission_id)
    form = DecisionForm()
    if not form.validate_on_submit():
        return _render_item(sub, form, status=400)
    try:
        review.transition(db.session, sub, form.action.data, current_user, actor(),
                          expected_version=int(form.version.data), reason_code=form.reason_code.data or None,
                          reason_text=form.reason_text.data)
    except review.DecidedAlready as conflict:
        db.session.commit()  # nothing changed but the conflict's audit row (review.transition)
        flash(_l("%(who)s decided this item first (%(status)s, %(when)s). Nothing was changed.",
                 who=conflict.by or "—", status=review.status_label(conflict.status),
                 when=localtime(conflict.at) if conflict.at else "—"), "error")
        return redirect(url_for("officer.item", submission_id=sub.id))
    except ValidationFailed as failure:
        errors_onto_form(form, failure)
        return _render_item(sub, form, status=400)
    except (ValueError, PermissionError):
        flash(_l("This decision is not possible for this item any more."), "error")
        return redirect(url_for("officer.item", submission_id=sub.id))
    db.session.commit()
    flash(_l("Decision saved."), "success")
    return redirect(url_for("officer.queue_view"))


@bp.route("/items/<int:submission_id>/reveal", methods=["POST"])
@officer_required
def reveal(submission_id: int):
    sub = _item_or_404(submission_id)
    form = RevealForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        number = queue.reveal_id(db.session, current_user, sub, form.person.data, actor(),
                                 per_hour=current_app.config["REVEALS_PER_HOUR"])
    except NotFound:
        abort(404)
    except queue.TooManyReveals:
        db.session.commit()  # the refusal is audited
        flash(_l("You have seen %(n)d full ID numbers in the last hour, the most an hour allows. The masked "
                 "number is shown; ask your station's administrator if you need more.",
                 n=current_app.config["REVEALS_PER_HOUR"]), "error")
        return _render_item(sub, status=429)
    db.session.commit()
    return _render_item(sub, revealed={form.person.data: number})


@bp.route("/addresses")
@officer_required
def find_address():
    form = AddressSearchForm(request.args)
    results = None
    if form.q.data and form.validate():
        results = addresses.search_page(db.session, form.q.data, offset=addresses.page_offset(request.args),
                                        beat_ids=jurisdiction.beat_ids_for(db.session, current_user))
    return render_template("officer/find_address.html", form=form, page=results)


# --- staff-list uploads: one upload's rows together ----------------------------------------------

@bp.route("/uploads/<int:staff_import_id>")
@officer_required
def upload(staff_import_id: int):
    try:
        group = queue.upload_group(db.session, current_user, staff_import_id)
    except NotFound:
        abort(404)
    return render_template("officer/upload.html", group=group, form=ConfirmCleanForm(),
                           flag_label=flags.label)


@bp.route("/uploads/<int:staff_import_id>/confirm-clean", methods=["POST"])
@officer_required
def confirm_clean(staff_import_id: int):
    if not ConfirmCleanForm().validate_on_submit():
        abort(400)
    try:
        done = queue.confirm_clean(db.session, current_user, staff_import_id, actor())
    except NotFound:
        abort(404)
    db.session.commit()
    flash(_l("%(n)d rows confirmed.", n=done.confirmed), "success")
    if done.conflicts:
        flash(_l("%(n)d rows were decided by someone else in the meantime and were left as they decided.",
                 n=done.conflicts), "info")
    if done.flagged_left:
        flash(_l("%(n)d rows with flags are left for you to decide one by one.", n=done.flagged_left), "info")
    return redirect(url_for("officer.upload", staff_import_id=staff_import_id))


# --- quality rates of the officer's own jurisdiction ------------------------------------------------

@bp.route("/quality")
@officer_required
def quality_view():
    """The officer's station (with its beats) or beat; only the period comes from the request."""
    form = QualityPeriodForm(request.args)
    scope = quality.scope_of_officer(db.session, current_user)
    try:
        period = quality.parse_period(form.start.data, form.end.data)
    except ValidationFailed as failure:
        for err in failure.errors:
            target = form.start if err.field == "from" else form.end
            target.errors = [*target.errors, err.message]
        return render_template("officer/quality.html", form=form, scope=scope, report=None), 400
    if not form.start.data:
        form.start.data = period.start.isoformat()
    if not form.end.data:
        form.end.data = period.end.isoformat()
    found = quality.report(db.session, scope, period)
    return render_template("officer/quality.html", form=form, scope=scope, report=found,
                           definitions=quality.DEFINITIONS, charts=charts.for_quality(found))

