"""Method calls on receivers of unknown type: `model.embedding()` where nothing says what `model` is.

Research code passes its objects around untyped (a loader's return value, a parameter), so the
class of `model` is rarely known where its methods are called. Such a call resolves to the
project's method of that name (its summary then applies: ball points returned, dict keys,
parameters that receive or consume ball points) when all of these hold:

- the name is not a dunder (`__call__`, `__getitem__`: every class has them);
- it is not a public method of a library object research code handles every day
  (`LIBRARY_METHODS`: torch.Tensor, nn.Module, Optimizer, DataLoader, Distribution, numpy
  ndarray, pandas DataFrame/Series, dict/list/set/str/bytes/tuple, files, matplotlib
  Axes/Figure, networkx graphs and scikit-learn's estimator API) — the receiver may be one
  of those, so `forward`, `get`, `update`, `item`, `numpy`, `dist`, `sample`, `fit` never
  resolve;
- exactly one function or method of the whole project has that name (`summaries.solve`
  counts every analysed file; a `def` of the name in a file the scan did not analyse
  withdraws it: `summaries.withdraw_unseen_calls`).

The receiver's class is then guessed from a name, so what flows through such a call is at
most *medium* confidence (the level of evidence by name or key). The same rule finds a method
a known class inherits from a base class elsewhere (`model.embedding()` of an `SNEmbedding`
whose base class `Embedding` defines it); the class is known there, so the confidence stays.

Pure data, no libcst: `summaries` (loaded by every run, warm ones too) uses it.
"""

from __future__ import annotations

# Prefix of a call target resolved by method name alone (`*.embedding`): never a dotted module path.
BY_NAME = "*."

# Public attributes of the library objects above (`dir()` of torch 2.13, numpy, pandas, matplotlib,
# networkx; scikit-learn's estimator methods by hand); `tests/scan/test_methods.py` checks it against
# the installed libraries.
LIBRARY_METHODS = frozenset(
    """
    ArtistList H OptimizerPostHook OptimizerPreHook T T_destination abs abs_ absolute absolute_ acorr acos acos_ acosh
    acosh_ add add_ add_artist add_axes add_axobserver add_callback add_child_axes add_collection add_container add_edge
    add_edges_from add_gridspec add_image add_line add_module add_node add_nodes_from add_param_group add_patch add_prefix
    add_subfigure add_subplot add_suffix add_table add_weighted_edges_from addbmm addbmm_ addcdiv addcdiv_ addcmul addcmul_
    addmm addmm_ addmv addmv_ addr addr_ adj adjacency adjlist_inner_dict_factory adjlist_outer_dict_factory adjoint agg
    aggregate align align_labels align_titles align_xlabels align_ylabels all allclose amax amin aminmax angle
    angle_spectrum annotate any append apply apply_ apply_aspect arccos arccos_ arccosh arccosh_ arcsin arcsin_ arcsinh
    arcsinh_ arctan arctan2 arctan2_ arctan_ arctanh arctanh_ arg_constraints argmax argmin argpartition argsort argwhere
    array arrow artists as_strided as_strided_ as_strided_scatter as_subclass asfreq asin asin_ asinh asinh_ asof assign
    astype at at_time atan atan2 atan2_ atan_ atanh atanh_ attrs autocorr autofmt_xdate autoscale autoscale_view axes
    axhline axhspan axis axline axvline axvspan backward baddbmm baddbmm_ bar bar_label barbs barh base batch_shape
    bernoulli bernoulli_ between between_time bfill bfloat16 bincount bitwise_and bitwise_and_ bitwise_left_shift
    bitwise_left_shift_ bitwise_not bitwise_not_ bitwise_or bitwise_or_ bitwise_right_shift bitwise_right_shift_ bitwise_xor
    bitwise_xor_ bmm bool boxplot broadcast_to broken_barh buffer buffers bxp byte byteswap call_super_init can_pan can_zoom
    capitalize case_when casefold cat cauchy_ ccol_indices cdf cdouble ceil ceil_ center cfloat chalf char
    check_worker_number_rationality children cholesky cholesky_inverse cholesky_solve choose chunk cla clabel clamp clamp_
    clamp_max clamp_max_ clamp_min clamp_min_ clear clear_edges clf clip clip_ clone close closed coalesce cohere
    col_indices collections colorbar columns combine combine_first compare compile compress conj conj_physical
    conj_physical_ conjugate const_data_ptr contains contains_point contiguous contour contourf convert_dtypes
    convert_xunits convert_yunits copy copy_ copysign copysign_ corr corrcoef corrwith cos cos_ cosh cosh_ count
    count_nonzero cov cpu cross crow_indices csd ctypes cuda cummax cummin cumprod cumprod_ cumsum cumsum_ data data_ptr
    decision_function decode deg2rad deg2rad_ degree delaxes dense_dim dequantize describe det detach detach_ device diag
    diag_embed diagflat diagonal diagonal_scatter diff difference difference_update digamma digamma_ dim dim_order discard
    dist div div_ divide divide_ divmod dot double dpi drag_pan draw draw_artist draw_without_rendering drop drop_duplicates
    droplevel dropna dsplit dt dtype dtypes dump dump_patches dumps duplicated ecdf edge_attr_dict_factory edge_subgraph
    edges eig element_size empty encode encoding end_pan endswith entropy enumerate_support eq eq_ equal equals erf erf_
    erfc erfc_ erfinv erfinv_ errorbar errors eval event_shape eventplot ewm exp exp2 exp2_ exp_ expand expand_as expanding
    expandtabs explode expm1 expm1_ exponential_ extend extra_repr factorize ffill figimage figure fileno fill fill_
    fill_between fill_betweenx fill_diagonal_ fillna filter find findobj first_valid_index fit fit_predict fit_transform fix
    fix_ flags flat flatten flip fliplr flipud float float_power float_power_ floor floor_ floor_divide floor_divide_
    floordiv flush fmax fmin fmod fmod_ format format_coord format_cursor_data format_map format_xdata format_ydata forward
    frac frac_ frameon frexp from_arrow from_dict from_records fromhex fromkeys gather gca gcd gcd_ ge ge_ geometric_ geqrf
    ger get get_adjustable get_agg_filter get_alpha get_anchor get_animated get_aspect get_autoscale_on get_autoscalex_on
    get_autoscaley_on get_axes get_axes_locator get_axisbelow get_box_aspect get_buffer get_children get_clip_box
    get_clip_on get_clip_path get_constrained_layout get_constrained_layout_pads get_cursor_data get_data_ratio
    get_default_bbox_extra_artists get_device get_dpi get_edge_data get_edgecolor get_extra_state get_facecolor get_fc
    get_figheight get_figure get_figwidth get_forward_navigation_events get_frame_on get_frameon get_gid get_gridspec
    get_images get_in_layout get_label get_layout_engine get_legend get_legend_handles_labels get_lines get_linewidth
    get_mouseover get_navigate get_navigate_mode get_parameter get_params get_path_effects get_picker get_position
    get_rasterization_zorder get_rasterized get_shared_x_axes get_shared_y_axes get_size_inches get_sketch_params get_snap
    get_submodule get_subplotspec get_suptitle get_supxlabel get_supylabel get_tight_layout get_tightbbox get_title
    get_transform get_transformed_clip_path_and_affine get_url get_visible get_window_extent get_xaxis
    get_xaxis_text1_transform get_xaxis_text2_transform get_xaxis_transform get_xbound get_xgridlines get_xinverted
    get_xlabel get_xlim get_xmajorticklabels get_xmargin get_xminorticklabels get_xscale get_xticklabels get_xticklines
    get_xticks get_yaxis get_yaxis_text1_transform get_yaxis_text2_transform get_yaxis_transform get_ybound get_ygridlines
    get_yinverted get_ylabel get_ylim get_ymajorticklabels get_ymargin get_yminorticklabels get_yscale get_yticklabels
    get_yticklines get_yticks get_zorder getfield ginput grad grad_dtype grad_fn graph_attr_dict_factory greater greater_
    greater_equal greater_equal_ grid groupby grouped_bar gt gt_ half hardshrink has_data has_edge has_enumerate_support
    has_node has_predecessor has_rsample has_successor hash_tensor hasnans have_units head heaviside heaviside_ hex hexbin
    hist hist2d histc histogram hlines hsplit hypot hypot_ i0 i0_ iat icdf idxmax idxmin igamma igamma_ igammac igammac_
    iloc imag images imshow in_axes in_degree in_edges index index_add index_add_ index_copy index_copy_ index_fill
    index_fill_ index_put index_put_ index_reduce index_reduce_ index_select indicate_inset indicate_inset_zoom indices
    infer_objects info inner insert inset_axes int int_repr interpolate intersection intersection_update inverse
    inverse_transform invert_xaxis invert_yaxis ipu is_coalesced is_complex is_conj is_contiguous is_cpu is_cuda is_directed
    is_distributed is_floating_point is_inference is_ipu is_leaf is_maia is_meta is_mkldnn is_monotonic_decreasing
    is_monotonic_increasing is_mps is_mtia is_multigraph is_neg is_nested is_nonzero is_pinned is_quantized is_same_size
    is_set_to is_shared is_signed is_sparse is_sparse_csr is_transform_set is_unique is_vulkan is_xla is_xpu isalnum isalpha
    isascii isatty isclose isdecimal isdigit isdisjoint isetitem isfinite isidentifier isin isinf islower isna isnan
    isneginf isnull isnumeric isposinf isprintable isreal isspace issubset issuperset istft istitle isupper item items
    itemsize iterrows itertuples join keys kneighbors kron kthvalue kurt kurtosis label_outer last_valid_index layout lcm
    lcm_ ldexp ldexp_ le le_ legend lerp lerp_ less less_ less_equal less_equal_ lgamma lgamma_ line_buffering lines list
    ljust load_state_dict loc locator_params log log10 log10_ log1p log1p_ log2 log2_ log_ log_normal_ log_prob log_softmax
    logaddexp logaddexp2 logcumsumexp logdet logical_and logical_and_ logical_not logical_not_ logical_or logical_or_
    logical_xor logical_xor_ logit logit_ loglog logsumexp long lower lstrip lstsq lt lt_ lu lu_solve mH mT
    magnitude_spectrum maketrans map map2_ map_ margins mask masked_fill masked_fill_ masked_scatter masked_scatter_
    masked_select matmul matrix_exp matrix_power matshow max maximum mean median melt memory_usage merge min minimum
    minorticks_off minorticks_on mm mod mode module_load modules mouseover moveaxis movedim msort mtia mul mul_ multinomial
    multiply multiply_ multiprocessing_context mv mvlgamma mvlgamma_ name named_buffers named_children named_modules
    named_parameters nan_to_num nan_to_num_ nanmean nanmedian nanquantile nansum narrow narrow_copy nbunch_iter nbytes ndim
    ndimension ne ne_ neg neg_ negative negative_ neighbors nelement new new_empty new_empty_strided new_full new_ones
    new_tensor new_zeros newlines nextafter nextafter_ nlargest node_attr_dict_factory node_dict_factory nodes nonzero
    nonzero_static norm normal_ not_equal not_equal_ notna notnull nsmallest number number_of_edges number_of_nodes numel
    numpy nunique order orgqr ormqr out_degree out_edges outer output_nr parameters partial_fit partition patches pchanged
    pcolor pcolorfast pcolormesh pct_change permute perplexity phase_spectrum pick pickable pie pie_label pin_memory
    pinverse pipe pivot pivot_table plot polygamma polygamma_ pop popitem positive pow pow_ pred predecessors predict
    predict_log_proba predict_proba prelu prod product profile_hook_step properties psd put put_ q_per_channel_axis
    q_per_channel_scales q_per_channel_zero_points q_scale q_zero_point qr qscheme quantile query quiver quiverkey rad2deg
    rad2deg_ radd random_ rank ravel rdiv rdivmod read readable readline readlines real reciprocal reciprocal_ reconfigure
    record_stream redraw_in_frame register_backward_hook register_buffer register_forward_hook register_forward_pre_hook
    register_full_backward_hook register_full_backward_pre_hook register_hook register_load_state_dict_post_hook
    register_load_state_dict_pre_hook register_module register_parameter register_post_accumulate_grad_hook
    register_state_dict_post_hook register_state_dict_pre_hook register_step_post_hook register_step_pre_hook reindex
    reindex_like reinforce relim relu relu_ remainder remainder_ remove remove_callback remove_edge remove_edges_from
    remove_node remove_nodes_from removeprefix removesuffix rename rename_axis renorm renorm_ reorder_levels repeat
    repeat_interleave replace requires_grad requires_grad_ resample reset_index reset_position reshape reshape_as resize
    resize_ resize_as resize_as_ resize_as_sparse_ resolve_conj resolve_neg retain_grad retains_grad reverse rfind rfloordiv
    rindex rjust rmod rmul roll rolling rot90 round round_ row_indices rpartition rpow rsample rsplit rsqrt rsqrt_ rstrip
    rsub rtruediv sample sample_n savefig sca scatter scatter_ scatter_add scatter_add_ scatter_reduce scatter_reduce_ score
    searchsorted secondary_xaxis secondary_yaxis seek seekable select select_dtypes select_scatter sem semilogx semilogy set
    set_ set_adjustable set_agg_filter set_alpha set_anchor set_animated set_aspect set_autoscale_on set_autoscalex_on
    set_autoscaley_on set_axes_locator set_axis set_axis_off set_axis_on set_axisbelow set_box_aspect set_canvas
    set_clip_box set_clip_on set_clip_path set_constrained_layout set_constrained_layout_pads set_default_validate_args
    set_dpi set_edgecolor set_extra_state set_facecolor set_fc set_figheight set_figure set_figwidth set_flags
    set_forward_navigation_events set_frame_on set_frameon set_gid set_in_layout set_index set_label set_layout_engine
    set_linewidth set_mouseover set_navigate set_navigate_mode set_params set_path_effects set_picker set_position
    set_prop_cycle set_rasterization_zorder set_rasterized set_size_inches set_sketch_params set_snap set_submodule
    set_subplotspec set_tight_layout set_title set_transform set_url set_visible set_xbound set_xinverted set_xlabel
    set_xlim set_xmargin set_xscale set_xticklabels set_xticks set_ybound set_yinverted set_ylabel set_ylim set_ymargin
    set_yscale set_yticklabels set_yticks set_zorder setdefault setfield setflags sgn sgn_ shape share_memory share_memory_
    sharex sharey shift short show sigmoid sigmoid_ sign sign_ signbit sin sin_ sinc sinc_ sinh sinh_ size skew
    slice_inverse slice_scatter slogdet smm softmax solve sort sort_index sort_values sparse sparse_dim sparse_mask
    sparse_resize_ sparse_resize_and_clear_ specgram split split_with_sizes splitlines spy sqrt sqrt_ square square_ squeeze
    squeeze_ sspaddmm stack stackplot stairs stale start_pan startswith state_dict std stddev stem step stft sticky_edges
    storage storage_offset storage_type str streamplot stride strides strip struct style sub sub_ subfigures subgraph
    subplot_mosaic subplots subplots_adjust subtract subtract_ succ successors sum sum_to_size support suptitle supxlabel
    supylabel svd swapaxes swapaxes_ swapcase swapdims swapdims_ swaplevel symeig symmetric_difference
    symmetric_difference_update t t_ table tables tail take take_along_dim tan tan_ tanh tanh_ tell tensor_split text texts
    tick_params ticklabel_format tight_layout tile title to to_clipboard to_csv to_dense to_device to_dict to_directed
    to_directed_class to_empty to_excel to_feather to_frame to_hdf to_html to_iceberg to_json to_latex to_list to_markdown
    to_mkldnn to_numpy to_orc to_padded_tensor to_parquet to_period to_pickle to_records to_sparse to_sparse_bsc
    to_sparse_bsr to_sparse_coo to_sparse_csc to_sparse_csr to_sql to_stata to_string to_timestamp to_undirected
    to_undirected_class to_xarray to_xml tobytes tofile tolist topk trace train transform translate transpose transpose_
    triangular_solve tricontour tricontourf tril tril_ tripcolor triplot triu triu_ true_divide true_divide_ truediv trunc
    trunc_ truncate twinx twiny type type_as tz_convert tz_localize unbind unflatten unfold uniform_ union unique
    unique_consecutive unsafe_chunk unsafe_split unsafe_split_with_sizes unsqueeze unsqueeze_ unstack untyped_storage update
    update_datalim update_from upper use_sticky_edges value_counts values var variance vdot view viewLim view_as violin
    violinplot vlines volatile vsplit waitforbuttonpress where writable write write_through writelines xaxis_date
    xaxis_inverted xcorr xlogy xlogy_ xpu xs yaxis_date yaxis_inverted zero_ zero_grad zfill zorder
    """.split()
)


def target_by_name(name: str) -> str | None:
    """The call target (`*.embedding`) a method call on an untyped receiver may resolve to, else None."""
    if name.startswith("__") or name in LIBRARY_METHODS:
        return None
    return BY_NAME + name
