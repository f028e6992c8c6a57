# Guide workbench
guide-nav-customers = Customers
guide-nav-tasks = Tasks
guide-nav-share = Share
guide-nav-kpis = KPIs
guide-customers-title = My customers
guide-search-label = Search by name or phone
guide-search-placeholder = e.g. Wang or 1380
guide-search-submit = Search
guide-search-clear = Clear filters
guide-filter-stage = Lifecycle stage
guide-filter-tag = Tag
guide-filter-any = Any
guide-member-no = Member { $ordinal }
guide-last-order = Last order { $date }
guide-never-ordered = No orders yet
guide-customers-none = No customers are bound to you yet.
guide-customers-none-match = No customers match.
guide-pager = Pages
guide-pager-first = First page
guide-pager-next = Next page
guide-stage-introduction = Introduction
guide-stage-growth = Growth
guide-stage-maturity = Maturity
guide-stage-decline = Decline
guide-stage-silence = Silent
guide-stage-churned = Churned
guide-segment-important_value = High value
guide-segment-important_develop = High value, to develop
guide-segment-important_keep = High value, to keep
guide-segment-important_retain = High value, to win back
guide-segment-general_value = Regular
guide-segment-general_develop = Regular, to develop
guide-segment-general_keep = Regular, to keep
guide-segment-general_retain = Regular, to win back
guide-identity-phone = Phone
guide-identity-wechat_openid = WeChat OpenID
guide-identity-wechat_unionid = WeChat UnionID
guide-identity-wecom_external_id = WeCom
guide-identity-member_card = Member card
guide-back-to-customers = My customers
guide-not-mine = Not your customer
guide-customer-figures = Customer figures
guide-points = Points
guide-coupons-usable = Usable coupons
guide-orders-365d = Orders, last year
guide-spend-365d = Spend, last year
guide-rfm = RFM { $r }-{ $f }-{ $m }
guide-follow-up = Follow-up
guide-due-by = Due by { $date }
guide-overdue-since = Overdue (was due { $date })
guide-contact-note = Contact note
guide-contact-note-placeholder = e.g. Called, visiting next week
guide-mark-contacted = Mark as contacted
guide-tags = Tags
guide-no-tags = No tags yet
guide-add-tag = Add a tag
guide-add-tag-submit = Add
guide-give-coupon = Give a coupon
guide-coupon-template = Coupon
guide-give-coupon-submit = Give
guide-coupon-given = Coupon given
guide-no-coupons = No coupons to give right now.
guide-timeline = Activity
guide-timeline-empty = No activity yet
guide-tasks-title = Follow-ups
guide-tasks-none = Nothing to follow up. Well done!
guide-tasks-overdue = Overdue ({ $count })
guide-tasks-due = To do ({ $count })
guide-task-done = Done
guide-task-finished = Task done
guide-customer-gone = This customer's profile was merged
guide-share-title = Share
guide-share-kind-product = Product
guide-share-kind-coupon = Coupon
guide-share-invite-title = My membership invitation
guide-share-kind-invite = Invitation
guide-share-link = Share link
guide-copy = Copy
guide-copied = Link copied
guide-copy-failed = Could not copy; press and hold the link to copy it
guide-qr-label = Share QR code
guide-qr-caption = Customers scan it to open the link
guide-share-attribution = Orders placed through this link count as your sales (promoter code { $code })
guide-share-invite-instead = Share my invitation link instead
guide-share-products = Share a product
guide-share-search = Search this store's online products
guide-share-search-placeholder = Product name or code
guide-share-no-products = No matching product is sold online in this store.
guide-share-coupons = Share a coupon
guide-share-no-coupons = No coupons customers can claim right now.
guide-kpis-title = My KPIs
guide-kpis-this-month = This month
guide-kpi-sales-month = Online sales this month
guide-kpi-orders = { $count ->
    [one] { $count } order
   *[other] { $count } orders
}
guide-kpi-customers-month = New customers this month
guide-kpi-customers-total = { $count } customers in all
guide-kpi-tasks-month = Follow-ups done this month
guide-kpi-tasks-open = { $count } still open
guide-kpi-sales-total = Online sales in all
guide-kpi-chart = Online sales, last six months
guide-kpi-chart-note = Online orders attributed through your share links, net of refunds.
guide-month = { $month ->
    [1] Jan
    [2] Feb
    [3] Mar
    [4] Apr
    [5] May
    [6] Jun
    [7] Jul
    [8] Aug
    [9] Sep
    [10] Oct
    [11] Nov
   *[12] Dec
}
