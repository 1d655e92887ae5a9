// The event forms of each role app, with the payload fields of docs/events.md.
const UNITS = ['pcs', 'kg', 'm', 'cone'];
const USER_ROLES = ['admin', 'manager', 'weaver', 'cutter', 'mechanic', 'store_raw', 'store_finished', 'store_subcontract', 'quality'];
const URGENCIES = ['low', 'normal', 'high', 'critical'];
const STOP_CLASSES = ['warp', 'weft', 'mechanical', 'electrical', 'quality', 'no_material', 'other'];

export const specs = {
  ProductionDeclared: {
    title: 'ev.ProductionDeclared', doc: 'doc.ProductionDeclared', label: (p) => p.hu_id,
    fields: [
      { name: 'hu_id', kind: 'hu', required: true },
      { name: 'loom_id', kind: 'id', required: true, remember: true },
      { name: 'of_id', kind: 'id', required: true, remember: true },
      { name: 'item_id', kind: 'id', required: true, remember: true },
      { name: 'qty_milli', kind: 'qty', required: true },
      { name: 'unit', kind: 'enum', values: UNITS, required: true, remember: true },
      { name: 'length_milli', kind: 'qty', required: true, unit: 'm' },
      { name: 'weight_milli', kind: 'qty', unit: 'kg' },
      { name: 'picks', kind: 'int', required: true, default: '0' },
      { name: 'location_id', kind: 'id', required: true, remember: true },
    ],
  },
  LoomStopped: {
    title: 'ev.LoomStopped',
    fields: [
      { name: 'loom_id', kind: 'id', required: true, remember: true },
      { name: 'stop_class', kind: 'enum', values: STOP_CLASSES, required: true },
      { name: 'reason_code', kind: 'text', required: true },
      { name: 'picks', kind: 'int', required: true, default: '0' },
      { name: 'note', kind: 'text' },
    ],
  },
  LoomRestarted: {
    title: 'ev.LoomRestarted',
    fields: [
      { name: 'loom_id', kind: 'id', required: true, remember: true },
      { name: 'picks', kind: 'int', required: true, default: '0' },
      { name: 'note', kind: 'text' },
    ],
  },
  InterventionRequested: {
    title: 'ev.InterventionRequested',
    fields: [
      { name: 'int_id', kind: 'id', required: true },
      { name: 'loom_id', kind: 'id', required: true, remember: true },
      { name: 'fault_class', kind: 'enum', values: STOP_CLASSES, required: true },
      { name: 'urgency', kind: 'enum', values: ['low', 'normal', 'high', 'critical'], required: true, default: 'normal' },
      { name: 'description', kind: 'text' },
    ],
  },
  CuttingDeclared: {
    title: 'ev.CuttingDeclared', doc: 'doc.CuttingDeclared', label: (p) => p.outputs.map((o) => o.hu_id),
    fields: [
      { name: 'input_hu_id', kind: 'hu', required: true },
      { name: 'consumed_qty_milli', kind: 'qty', required: true },
      { name: 'unit', kind: 'enum', values: UNITS, required: true, remember: true },
      { name: 'location_id', kind: 'id', required: true, remember: true },
      {
        name: 'outputs', kind: 'rows', required: true, min: 2,
        rows: [
          { name: 'hu_id', kind: 'hu', required: true },
          { name: 'item_id', kind: 'id', required: true },
          { name: 'grade', kind: 'enum', values: ['first', 'second'], required: true },
          { name: 'qty_milli', kind: 'qty', required: true },
        ],
      },
      { name: 'waste_qty_milli', kind: 'qty', required: true, default: '0' },
      { name: 'waste_reason', kind: 'enum', values: ['weaving_defect', 'yarn_defect', 'cutting_error', 'stain', 'roll_end', 'sample', 'other'] },
      { name: 'note', kind: 'text' },
      { name: 'photos', kind: 'photos', max: 10 },
    ],
    // Cutting conserves quantity (the plant's tolerance is checked by the ledger).
    check: (p) => (p.waste_qty_milli > 0 && !p.waste_reason ? 'err.waste_reason' : null),
  },
  InterventionAcknowledged: {
    title: 'ev.InterventionAcknowledged',
    fields: [
      { name: 'int_id', kind: 'id', required: true },
      { name: 'loom_id', kind: 'id', required: true },
      { name: 'eta_min', kind: 'int' },
    ],
  },
  InterventionStarted: {
    title: 'ev.InterventionStarted',
    fields: [
      { name: 'int_id', kind: 'id', required: true },
      { name: 'loom_id', kind: 'id', required: true },
    ],
  },
  InterventionCompleted: {
    title: 'ev.InterventionCompleted',
    fields: [
      { name: 'int_id', kind: 'id', required: true },
      { name: 'loom_id', kind: 'id', required: true },
      { name: 'root_cause', kind: 'enum', required: true, values: ['wear', 'breakage', 'misadjustment', 'lubrication', 'electrical_fault', 'operator_error', 'material_defect', 'design', 'unknown', 'other'] },
      { name: 'root_cause_detail', kind: 'text', required: true },
      { name: 'action_taken', kind: 'text' },
    ],
  },
  GoodsReceived: {
    title: 'ev.GoodsReceived', label: (p) => p.hu_id,
    fields: [
      { name: 'hu_id', kind: 'hu', required: true },
      { name: 'item_id', kind: 'id', required: true, remember: true },
      { name: 'qty_milli', kind: 'qty', required: true },
      { name: 'unit', kind: 'enum', values: UNITS, required: true, remember: true, default: 'kg' },
      { name: 'cones', kind: 'int' },
      { name: 'location_id', kind: 'id', required: true, remember: true },
      { name: 'supplier', kind: 'text', required: true, remember: true },
      { name: 'supplier_lot', kind: 'text' },
      { name: 'delivery_note_ref', kind: 'text' },
    ],
  },
  MaterialIssuedToLoom: {
    title: 'ev.MaterialIssuedToLoom',
    fields: [
      { name: 'hu_id', kind: 'hu', required: true },
      { name: 'loom_id', kind: 'id', required: true },
      { name: 'of_id', kind: 'id', required: true, remember: true },
      { name: 'qty_milli', kind: 'qty', required: true },
      { name: 'from_location_id', kind: 'id', required: true, remember: true },
    ],
  },
  StockTransferred: {
    title: 'ev.StockTransferred',
    fields: [
      { name: 'hu_id', kind: 'hu', required: true },
      { name: 'from_location_id', kind: 'id', required: true, remember: true },
      { name: 'to_location_id', kind: 'id', required: true, remember: true },
      { name: 'transfer_ref', kind: 'text' },
    ],
  },
  HUPacked: {
    title: 'ev.HUPacked', label: (p) => p.carton_hu_id,
    fields: [
      { name: 'carton_hu_id', kind: 'hu', required: true },
      { name: 'hu_ids', kind: 'hus', required: true },
      { name: 'location_id', kind: 'id', required: true, remember: true },
    ],
  },
  LotSentToSubcontractor: {
    title: 'ev.LotSentToSubcontractor',
    fields: [
      { name: 'sublot_id', kind: 'id', required: true },
      { name: 'sub_id', kind: 'id', required: true, remember: true },
      { name: 'operation', kind: 'enum', values: ['hemming', 'embroidery', 'dyeing', 'printing', 'other'], required: true },
      { name: 'hu_ids', kind: 'hus', required: true },
      { name: 'qty_milli', kind: 'qty', required: true },
      { name: 'unit', kind: 'enum', values: UNITS, required: true, remember: true },
      { name: 'from_location_id', kind: 'id', required: true, remember: true },
      { name: 'to_location_id', kind: 'id', required: true, remember: true },
      { name: 'of_id', kind: 'id' },
      { name: 'instructions', kind: 'text' },
      { name: 'delivery_note_ref', kind: 'text' },
    ],
  },
  LotReturnedFromSubcontractor: {
    title: 'ev.LotReturnedFromSubcontractor', doc: 'doc.LotReturnedFromSubcontractor',
    fields: [
      { name: 'sublot_id', kind: 'id', required: true },
      { name: 'sub_id', kind: 'id', required: true, remember: true },
      { name: 'good_hu_id', kind: 'hu' },
      { name: 'good_qty_milli', kind: 'qty', required: true, default: '0' },
      { name: 'grade', kind: 'enum', values: ['first', 'second'] },
      { name: 'item_id', kind: 'id' },
      { name: 'rejected_qty_milli', kind: 'qty', required: true, default: '0' },
      { name: 'rejected_hu_id', kind: 'hu' },
      { name: 'lost_qty_milli', kind: 'qty', required: true, default: '0' },
      { name: 'allowance_qty_milli', kind: 'qty', required: true, default: '0', signed: true },
      { name: 'allowance_reason', kind: 'text' },
      { name: 'to_location_id', kind: 'id', required: true, remember: true },
      { name: 'closes_lot', kind: 'bool', default: true },
      { name: 'delivery_note_ref', kind: 'text' },
    ],
    check: (p) => (p.allowance_qty_milli !== 0 && !p.allowance_reason ? 'err.allowance_reason' : null),
  },
  OFStartedOnLoom: {
    title: 'ev.OFStartedOnLoom',
    fields: [
      { name: 'loom_id', kind: 'id', required: true, remember: true },
      { name: 'of_id', kind: 'hu', required: true },
      { name: 'picks', kind: 'int', required: true, default: '0' },
    ],
  },
  HUReceivedAtCutting: {
    title: 'ev.HUReceivedAtCutting',
    fields: [
      { name: 'hu_id', kind: 'hu', required: true },
      { name: 'from_location_id', kind: 'id', required: true, remember: true },
      { name: 'to_location_id', kind: 'id', required: true, remember: true },
      { name: 'transfer_ref', kind: 'text' },
    ],
  },
  HUPalletized: {
    title: 'ev.HUPalletized', label: (p) => p.pallet_hu_id,
    fields: [
      { name: 'pallet_hu_id', kind: 'hu', required: true },
      { name: 'hu_ids', kind: 'hus', required: true },
      { name: 'location_id', kind: 'id', required: true, remember: true },
    ],
  },
  LotRejected: {
    title: 'ev.LotRejected',
    fields: [
      { name: 'hu_id', kind: 'hu', required: true },
      { name: 'reason', kind: 'text', required: true },
      { name: 'disposition', kind: 'enum', required: true, values: ['scrap', 'rework', 'downgrade', 'return_to_supplier', 'return_to_subcontractor'] },
      { name: 'nc_id', kind: 'id' },
    ],
  },
  CountOpened: {
    title: 'ev.CountOpened',
    fields: [
      { name: 'count_id', kind: 'id', required: true },
      { name: 'location_ids', kind: 'hus', required: true },
      { name: 'scope', kind: 'enum', values: ['full', 'cycle', 'spot'], required: true, default: 'spot' },
      { name: 'blind', kind: 'tribool' },
      { name: 'note', kind: 'text' },
    ],
  },
  ItemCounted: {
    title: 'ev.ItemCounted', doc: 'doc.ItemCounted',
    fields: [
      { name: 'count_id', kind: 'id', required: true, remember: true },
      { name: 'location_id', kind: 'id', required: true, remember: true },
      { name: 'hu_id', kind: 'hu', required: true },
      { name: 'item_id', kind: 'id', required: true },
      { name: 'counted_qty_milli', kind: 'qty', required: true },
      { name: 'unit', kind: 'enum', values: UNITS, required: true },
      { name: 'note', kind: 'text' },
    ],
  },
  CountClosed: {
    title: 'ev.CountClosed',
    fields: [
      { name: 'count_id', kind: 'id', required: true, remember: true },
      { name: 'note', kind: 'text' },
    ],
  },
  LotPutOnHold: {
    title: 'ev.LotPutOnHold',
    fields: [
      { name: 'hu_id', kind: 'hu', required: true },
      { name: 'reason', kind: 'text', required: true },
      { name: 'nc_id', kind: 'id' },
    ],
  },
  LotReleased: {
    title: 'ev.LotReleased',
    fields: [
      { name: 'hu_id', kind: 'hu', required: true },
      { name: 'note', kind: 'text' },
    ],
  },
  // ---- the curated screens of screens.js: first piece, beams, shipments, NCs, inspections and
  // users. `roles`: who may post the type (the catalog's x-roles; the browser test compares).
  FirstPieceInspected: {
    title: 'ev.FirstPieceInspected', doc: 'doc.FirstPieceInspected', roles: ['mechanic', 'quality'],
    fields: [
      { name: 'loom_id', kind: 'id', required: true, remember: true },
      { name: 'of_id', kind: 'hu', required: true, remember: true },
      { name: 'result', kind: 'enum', values: ['passed', 'failed'], required: true },
      { name: 'width_mm', kind: 'int' },
      { name: 'repeat_length_mm', kind: 'int' },
      { name: 'gsm', kind: 'int' },
      {
        name: 'defects', kind: 'rows', min: 1,
        rows: [
          { name: 'defect_id', kind: 'id', required: true },
          { name: 'count', kind: 'int', required: true },
        ],
      },
      { name: 'note', kind: 'text' },
      { name: 'photos', kind: 'photos', max: 10 },
    ],
  },
  BeamRegistered: {
    title: 'ev.BeamRegistered', roles: ['mechanic', 'store_raw', 'manager'],
    fields: [
      { name: 'beam_id', kind: 'hu', required: true, keep: true },
      { name: 'item_id', kind: 'id', required: true, remember: true },
      { name: 'position', kind: 'enum', values: ['ground', 'pile'], required: true },
      { name: 'length_milli', kind: 'qty', required: true, unit: 'm' },
      { name: 'ends', kind: 'int' },
      { name: 'location_id', kind: 'id', required: true, remember: true },
      { name: 'of_id', kind: 'id' },
      { name: 'yarn_lots', kind: 'rows', min: 1, rows: [
        { name: 'hu_id', kind: 'hu', required: true },
        { name: 'qty_milli', kind: 'qty', required: true },
      ] },
    ],
  },
  BeamMounted: {
    title: 'ev.BeamMounted', doc: 'doc.BeamMounted', roles: ['mechanic', 'manager'],
    fields: [
      { name: 'beam_id', kind: 'hu', required: true, keep: true },
      { name: 'loom_id', kind: 'id', required: true, remember: true },
      { name: 'position', kind: 'enum', values: ['ground', 'pile'], required: true },
      { name: 'length_milli', kind: 'qty', required: true, unit: 'm' },
      { name: 'of_id', kind: 'id' },
    ],
  },
  BeamDismounted: {
    title: 'ev.BeamDismounted', roles: ['mechanic', 'manager'],
    fields: [
      { name: 'beam_id', kind: 'hu', required: true, keep: true },
      { name: 'loom_id', kind: 'id', required: true },
      { name: 'position', kind: 'enum', values: ['ground', 'pile'], required: true },
      { name: 'remaining_length_milli', kind: 'qty', required: true, unit: 'm' },
      { name: 'reason', kind: 'enum', values: ['beam_out', 'changeover', 'fault', 'other'], required: true },
      { name: 'to_location_id', kind: 'id', remember: true },
    ],
  },
  ShipmentPlanned: {
    title: 'ev.ShipmentPlanned', roles: ['store_finished', 'manager', 'admin'],
    fields: [
      { name: 'ship_id', kind: 'hu', required: true, keep: true },
      { name: 'customer_location_id', kind: 'id', required: true },
      { name: 'planned_at_us', kind: 'time', required: true },
      { name: 'customer_order_ref', kind: 'text' },
      { name: 'note', kind: 'text' },
    ],
  },
  ShipmentLoaded: {
    title: 'ev.ShipmentLoaded', doc: 'doc.ShipmentLoaded', roles: ['store_finished', 'manager'],
    fields: [
      { name: 'ship_id', kind: 'hu', required: true, keep: true },
      { name: 'hu_ids', kind: 'hus', required: true },
      { name: 'from_location_id', kind: 'id', required: true, remember: true },
    ],
  },
  ShipmentUnloaded: {
    title: 'ev.ShipmentUnloaded', roles: ['store_finished', 'manager'],
    fields: [
      { name: 'ship_id', kind: 'hu', required: true, keep: true },
      { name: 'hu_ids', kind: 'hus', required: true },
      { name: 'to_location_id', kind: 'id', required: true, remember: true },
      { name: 'reason', kind: 'text', required: true },
    ],
  },
  ShipmentDispatched: {
    title: 'ev.ShipmentDispatched', roles: ['store_finished', 'manager'],
    fields: [
      { name: 'ship_id', kind: 'hu', required: true, keep: true },
      { name: 'to_location_id', kind: 'id', required: true },
      { name: 'carrier', kind: 'text', remember: true },
      { name: 'vehicle_ref', kind: 'text' },
      { name: 'seal_ref', kind: 'text' },
      { name: 'delivery_note_ref', kind: 'text' },
    ],
  },
  NCOpened: {
    title: 'ev.NCOpened', roles: ['quality', 'manager'],
    fields: [
      { name: 'nc_id', kind: 'hu', required: true, keep: true },
      { name: 'title', kind: 'text', required: true },
      { name: 'description', kind: 'text', required: true },
      { name: 'source', kind: 'enum', required: true, values: ['raw_material', 'weaving', 'cutting', 'subcontract', 'finished_goods', 'customer_complaint', 'audit', 'other'] },
      { name: 'severity', kind: 'enum', required: true, values: ['minor', 'major', 'critical'], default: 'major' },
      { name: 'hu_ids', kind: 'hus' },
      { name: 'of_id', kind: 'id' },
      { name: 'loom_id', kind: 'id' },
      { name: 'sub_id', kind: 'id' },
      { name: 'item_id', kind: 'id' },
      { name: 'defect_id', kind: 'id' },
      { name: 'photos', kind: 'photos', max: 10 },
    ],
  },
  ContainmentRecorded: {
    title: 'ev.ContainmentRecorded', doc: 'doc.ContainmentRecorded', roles: ['quality', 'manager'],
    fields: [
      { name: 'nc_id', kind: 'hu', required: true, keep: true },
      { name: 'action', kind: 'text', required: true },
      { name: 'hu_ids', kind: 'hus' },
      { name: 'photos', kind: 'photos', max: 10 },
    ],
  },
  CorrectiveActionRecorded: {
    title: 'ev.CorrectiveActionRecorded', roles: ['quality', 'manager'],
    fields: [
      { name: 'nc_id', kind: 'hu', required: true, keep: true },
      { name: 'root_cause', kind: 'text', required: true },
      { name: 'action', kind: 'text', required: true },
      { name: 'owner_user_id', kind: 'id' },
      { name: 'due_at_us', kind: 'time' },
    ],
  },
  NCClosed: {
    title: 'ev.NCClosed', roles: ['quality'],
    fields: [
      { name: 'nc_id', kind: 'hu', required: true, keep: true },
      { name: 'effective', kind: 'bool' },
      { name: 'conclusion', kind: 'text', required: true },
    ],
  },
  InspectionRecorded: {
    title: 'ev.InspectionRecorded', doc: 'doc.InspectionRecorded', roles: ['quality'],
    fields: [
      { name: 'hu_id', kind: 'hu', required: true },
      { name: 'stage', kind: 'enum', required: true, remember: true, values: ['incoming', 'in_process', 'final', 'subcontract_return', 'customer_return'] },
      { name: 'inspected_length_milli', kind: 'qty', unit: 'm' },
      { name: 'width_mm', kind: 'int', remember: true },
      { name: 'sample_qty_milli', kind: 'qty' },
      {
        // Required, but an inspection that found nothing posts an empty list.
        name: 'defects', kind: 'rows', required: true, empty: true, min: 2,
        rows: [
          { name: 'defect_id', kind: 'id', required: true },
          { name: 'points', kind: 'enum', values: [1, 2, 3, 4], required: true },
          { name: 'count', kind: 'int', required: true },
          { name: 'position_milli', kind: 'qty', unit: 'm' },
        ],
      },
      { name: 'note', kind: 'text' },
      { name: 'photos', kind: 'photos', max: 10 },
    ],
  },
  UserInvited: {
    title: 'ev.UserInvited', doc: 'doc.UserInvited', roles: ['admin'],
    fields: [
      { name: 'user_id', kind: 'id', required: true },
      { name: 'display_name', kind: 'text', required: true },
      { name: 'email', kind: 'text', required: true },
      { name: 'role', kind: 'enum', values: USER_ROLES, required: true, default: 'weaver' },
    ],
  },
  UserRoleChanged: {
    title: 'ev.UserRoleChanged', roles: ['admin'],
    fields: [
      { name: 'user_id', kind: 'id', required: true, keep: true },
      { name: 'role', kind: 'enum', values: USER_ROLES, required: true },
      { name: 'reason', kind: 'text' },
    ],
  },
  UserDisabled: {
    title: 'ev.UserDisabled', roles: ['admin'],
    fields: [
      { name: 'user_id', kind: 'id', required: true, keep: true },
      { name: 'reason', kind: 'text', required: true },
    ],
  },
  UserReactivated: {
    title: 'ev.UserReactivated', roles: ['admin'],
    fields: [
      { name: 'user_id', kind: 'id', required: true, keep: true },
      { name: 'reason', kind: 'text', required: true },
    ],
  },
  // ---- the screens of upkeep.js: spare parts, preventive maintenance, purchase requests.
  SparePartRequested: {
    title: 'ev.SparePartRequested', roles: ['mechanic', 'manager'],
    fields: [
      { name: 'pr_id', kind: 'id', required: true },
      { name: 'item_id', kind: 'id', required: true },
      { name: 'qty_milli', kind: 'qty', required: true },
      { name: 'loom_id', kind: 'id', remember: true },
      { name: 'int_id', kind: 'id' },
      { name: 'urgency', kind: 'enum', values: URGENCIES, required: true, default: 'normal' },
      { name: 'note', kind: 'text' },
    ],
  },
  SparePartIssued: {
    title: 'ev.SparePartIssued', roles: ['store_raw', 'manager'],
    fields: [
      { name: 'pr_id', kind: 'id' },
      { name: 'hu_id', kind: 'hu', required: true },
      { name: 'item_id', kind: 'id', required: true },
      { name: 'qty_milli', kind: 'qty', required: true },
      { name: 'from_location_id', kind: 'id', required: true },
      { name: 'loom_id', kind: 'id' },
      { name: 'int_id', kind: 'id' },
    ],
  },
  PreventiveMaintenanceScheduled: {
    title: 'ev.PreventiveMaintenanceScheduled', roles: ['mechanic', 'manager', 'admin'],
    fields: [
      { name: 'loom_id', kind: 'id', required: true },
      { name: 'task_code', kind: 'text', required: true },
      { name: 'description', kind: 'text' },
      { name: 'due_at_us', kind: 'time', required: true },
      { name: 'interval_days', kind: 'int' },
    ],
  },
  PreventiveMaintenanceDone: {
    title: 'ev.PreventiveMaintenanceDone', roles: ['mechanic'],
    fields: [
      { name: 'loom_id', kind: 'id', required: true },
      { name: 'task_code', kind: 'text', required: true },
      { name: 'duration_min', kind: 'int', required: true },
      { name: 'parts_used', kind: 'rows', min: 1, rows: [
        { name: 'item_id', kind: 'id', required: true },
        { name: 'qty_milli', kind: 'qty', required: true, unit: 'pcs' },
      ] },
      { name: 'note', kind: 'text' },
    ],
  },
  PurchaseRequested: {
    title: 'ev.PurchaseRequested', roles: ['cutter', 'mechanic', 'store_raw', 'store_finished', 'store_subcontract', 'quality', 'manager'],
    fields: [
      { name: 'pr_id', kind: 'id', required: true },
      { name: 'item_id', kind: 'id' },
      { name: 'description', kind: 'text', required: true },
      { name: 'qty_milli', kind: 'qty', required: true },
      { name: 'unit', kind: 'enum', values: UNITS, required: true },
      { name: 'needed_by_us', kind: 'time' },
      { name: 'urgency', kind: 'enum', values: URGENCIES, required: true, default: 'normal' },
      { name: 'reason', kind: 'text' },
    ],
  },
  PurchaseRequestApproved: {
    title: 'ev.PurchaseRequestApproved', roles: ['manager', 'admin'],
    fields: [
      { name: 'pr_id', kind: 'id', required: true },
      { name: 'approved_qty_milli', kind: 'qty' },
      { name: 'note', kind: 'text' },
    ],
  },
  PurchaseRequestRejected: {
    title: 'ev.PurchaseRequestRejected', roles: ['manager', 'admin'],
    fields: [
      { name: 'pr_id', kind: 'id', required: true },
      { name: 'reason', kind: 'text', required: true },
    ],
  },
};

// Each role's tabs: event forms by type, or a view ('lookup', 'interventions', 'board',
// 'stock', 'kpis', 'outbox').
export const roleTabs = {
  weaver: ['ProductionDeclared', 'LoomStopped', 'LoomRestarted', 'OFStartedOnLoom', 'InterventionRequested', 'board', 'lookup'],
  cutter: ['HUReceivedAtCutting', 'CuttingDeclared', 'lookup', 'purchases'],
  mechanic: ['interventions', 'mdesk', 'LoomStopped', 'LoomRestarted', 'FirstPieceInspected', 'beams', 'spares', 'pm', 'purchases', 'lookup', 'planning', 'kpis'],
  store_raw: ['GoodsReceived', 'MaterialIssuedToLoom', 'StockTransferred', 'beams', 'spares', 'count', 'purchases', 'lookup'],
  store_finished: ['StockTransferred', 'HUPacked', 'HUPalletized', 'shipments', 'count', 'purchases', 'lookup', 'stock'],
  store_subcontract: ['LotSentToSubcontractor', 'LotReturnedFromSubcontractor', 'count', 'purchases', 'lookup'],
  quality: ['LotPutOnHold', 'LotReleased', 'LotRejected', 'qdesk', 'inspection', 'ncs', 'FirstPieceInspected', 'purchases', 'lookup', 'trace', 'kpis'],
  manager: ['board', 'orders', 'planning', 'qdesk', 'mdesk', 'pm', 'beams', 'spares', 'purchases', 'shipments', 'ncs', 'stock', 'lookup', 'trace', 'kpis'],
  admin: ['board', 'orders', 'planning', 'qdesk', 'mdesk', 'pm', 'users', 'shipments', 'purchases', 'stock', 'lookup', 'trace', 'kpis'],
};
// The event types behind each screen tab (the test checks each role may post some of them).
export const screenTypes = {
  beams: ['BeamRegistered', 'BeamMounted', 'BeamDismounted'],
  shipments: ['ShipmentPlanned', 'ShipmentLoaded', 'ShipmentUnloaded', 'ShipmentDispatched'],
  ncs: ['NCOpened', 'ContainmentRecorded', 'CorrectiveActionRecorded', 'NCClosed'],
  inspection: ['InspectionRecorded'],
  users: ['UserInvited', 'UserRoleChanged', 'UserDisabled', 'UserReactivated'],
  spares: ['SparePartRequested', 'SparePartIssued'],
  pm: ['PreventiveMaintenanceScheduled', 'PreventiveMaintenanceDone'],
  purchases: ['PurchaseRequested', 'PurchaseRequestApproved', 'PurchaseRequestRejected'],
};
